# Host side of the qemu beds (tests/vm/run and tests/flagship/run), sourced by both: Debian
# packages, and Debian's own kernel unpacked (never installed) into a cache directory.
# The caller sets `prog` (for messages) and `cache` (the build tree's vm-cache) and defines die.

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else
    return 1
  fi
}

# install_missing PACKAGE...: installs those not installed; exits 77 (skip) when it cannot.
install_missing() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "$prog: installing ${missing[*]}" >&2
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
    ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null; then
    echo "$prog: SKIP: cannot install ${missing[*]} (needs root or sudo, and Debian's apt)" >&2
    exit 77
  fi
}

kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

# debian_kernel: sets kpkg (linux-image-VERSION) and kver (VERSION) for Debian's current kernel,
# or the newest one already in the cache when apt knows none.
debian_kernel() {
  kpkg=$(kernel_package || true)
  if [ -z "$kpkg" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
    kpkg=$(kernel_package || true)
  fi
  if [ -z "$kpkg" ]; then
    # Offline: the newest kernel already in the cache will do.
    kpkg=$(find "$cache" -maxdepth 1 -name 'linux-image-*.deb' -printf '%f\n' 2>/dev/null |
      sort -V | tail -1 | sed 's/_.*//')
    [ -n "$kpkg" ] || die "cannot find Debian's linux-image-amd64 (apt-get update?) and no cached kernel"
  fi
  kver=${kpkg#linux-image-}
}

# prepare_kernel KDIR MODULE...: makes KDIR hold the uncompressed vmlinux that qemu boots through
# its PVH note (twice as fast under TCG as the bzImage), the modules named and everything they
# depend on under KDIR/lib/modules/VERSION with the kernel's index files, and KDIR/load-order
# (the module files in an order insmod accepts). Does nothing when KDIR already holds that set.
prepare_kernel() {
  local kdir=$1 key
  shift
  key=$( (echo cache-v2; printf '%s\n' "$@") | md5sum | cut -c1-12)
  if [ -f "$kdir/vmlinux" ] && [ "$(cat "$kdir/key" 2>/dev/null)" = "$key" ]; then
    return 0
  fi
  local tmp=$cache/tmp.$$ deb
  rm -rf "$tmp" "$kdir"
  mkdir -p "$tmp" "$kdir"
  deb=$(find "$cache" -maxdepth 1 -name "${kpkg}_*.deb" | sort -V | tail -1)
  if [ -z "$deb" ]; then
    echo "$prog: downloading $kpkg" >&2
    # apt-get download writes to the current directory; _apt may not read the build dir.
    (cd "$tmp" && apt-get download -q "$kpkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
    deb=$(find "$tmp" -maxdepth 1 -name "${kpkg}_*.deb" | head -1)
    [ -n "$deb" ] || die "apt-get download $kpkg failed"
    mv "$deb" "$cache/"
    deb=$cache/$(basename "$deb")
  fi
  dpkg-deb -x "$deb" "$tmp/root"
  local bz=$tmp/root/boot/vmlinuz-$kver off
  [ -f "$bz" ] || die "no $bz in $deb"
  # The bzImage carries an xz stream; the decompressor stops with an error at the trailing
  # data, so the result is checked as an ELF file instead of by exit status.
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bz" | head -1 | cut -d: -f1)
  [ -n "$off" ] || die "no xz stream in $bz (Debian changed the kernel compression?)"
  tail -c +$((off + 1)) "$bz" | xz -dcq >"$kdir/vmlinux" 2>/dev/null || true
  [ "$(head -c 4 "$kdir/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] ||
    die "could not extract vmlinux from $bz"
  # Keep only the module closure asked for, with the kernel's own index files.
  depmod -b "$tmp/root" "$kver"
  local m f
  for m in "$@"; do
    modprobe -S "$kver" -d "$tmp/root" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
  done | awk '!seen[$0]++' >"$tmp/order"
  while read -r f; do
    install -D -m 644 "$f" "$kdir/${f#"$tmp/root/"}"
    echo "${f#"$tmp/root"}"
  done <"$tmp/order" >"$kdir/load-order"
  cp "$tmp/root/lib/modules/$kver/modules.builtin"* "$tmp/root/lib/modules/$kver/modules.order" \
    "$kdir/lib/modules/$kver/"
  depmod -b "$kdir" "$kver"
  rm -rf "$tmp"
  echo "$key" >"$kdir/key"
}

# select_scenarios DIR [NAME...]: sets run_list to the scenarios (DIR/[0-9]*.sh, without .sh)
# whose file name is NAME or starts with "NAME-"; all of them when no NAME is given.
select_scenarios() {
  local dir=$1 f s a found
  shift
  local all=()
  for f in "$dir"/[0-9]*.sh; do
    [ -e "$f" ] && all+=("$(basename "$f" .sh)")
  done
  run_list=()
  if [ $# -eq 0 ]; then
    run_list=("${all[@]}")
    return 0
  fi
  for s in "$@"; do
    found=0
    for a in "${all[@]}"; do
      case $a in "$s" | "$s"-*) run_list+=("$a"); found=1 ;; esac
    done
    [ $found -eq 1 ] || die "no scenario '$s' in $dir (have: ${all[*]})"
  done
}

# report_qemu_status STATUS CONSOLE TIMEOUT FAILED: what qemu's exit status says about the guest,
# on stderr. Fails unless the guest reported: 1 = it wrote 0 to isa-debug-exit (all good), 3 = it
# wrote 1 (a failure, which must then be among the FAILED scenarios already counted, else it
# happened outside them); anything else is a panic, a hang or the timeout.
report_qemu_status() {
  case $1 in
    1) return 0 ;;
    3) [ "$4" -gt 0 ] && return 0
      echo "$prog: the guest reported a failure outside the scenarios; console tail:" >&2 ;;
    124 | 137)
      echo "$prog: the VM timed out after $3 s" >&2
      return 1
      ;;
    *) echo "$prog: the VM ended without reporting (qemu status $1); console tail:" >&2 ;;
  esac
  tail -n 60 "$2" | sed 's/^/    | /' >&2
  return 1
}

# build_module SRC OUT: builds the out-of-tree module in directory SRC (its .c files and Kbuild)
# against Debian's headers for $kver, the same version as $kpkg (downloaded with apt-get download
# into the cache, nothing installed), and writes the .ko to OUT. Does nothing when OUT is newer
# than SRC's files.
build_module() {
  local src=$1 out=$2 deb version abi minor hdir tmp pkg f newer=yes
  for f in "$src"/*; do [ "$f" -nt "$out" ] && newer=no; done
  [ -f "$out" ] && [ $newer = yes ] && return 0
  deb=$(find "$cache" -maxdepth 1 -name "${kpkg}_*.deb" | sort -V | tail -1)
  [ -n "$deb" ] || die "no $kpkg package in $cache to take the version from"
  version=$(dpkg-deb -f "$deb" Version)
  abi=${kver%-*}                          # 6.1.0-57
  minor=$(echo "$kver" | cut -d. -f1,2)   # 6.1
  hdir=$cache/headers-$kver
  if [ ! -f "$hdir/complete" ]; then
    rm -rf "$hdir"
    tmp=$cache/tmp-headers.$$
    rm -rf "$tmp"
    mkdir -p "$tmp" "$hdir"
    echo "$prog: downloading the headers of $kver ($version)" >&2
    for pkg in "linux-headers-$kver" "linux-headers-$abi-common" "linux-kbuild-$minor"; do
      (cd "$tmp" && apt-get download -q "$pkg=$version" 2>&1 |
        grep -v '^W: Download is performed unsandboxed' >&2 || true)
      f=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" | head -1)
      [ -n "$f" ] || die "apt-get download $pkg=$version failed"
      dpkg-deb -x "$f" "$hdir/root"
    done
    rm -rf "$tmp"
    # The flavour's Makefile includes the common one by its installed path.
    sed -i "s|^include /usr/src/|include $hdir/root/usr/src/|" "$hdir/root/usr/src/linux-headers-$kver/Makefile"
    touch "$hdir/complete"
  fi
  tmp=$cache/tmp-module.$$
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp "$src"/* "$tmp/"
  make -s -C "$hdir/root/usr/src/linux-headers-$kver" M="$tmp" modules >"$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log" >&2; die "cannot build the module in $src"; }
  cp "$tmp"/*.ko "$out"
  rm -rf "$tmp"
}
