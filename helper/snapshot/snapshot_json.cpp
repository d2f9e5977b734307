// SPDX-License-Identifier: MIT
#include "snapshot/snapshot_json.hpp"

namespace usbrecover {

namespace {

void write_devices(JsonWriter& w, std::string_view key, const std::vector<UsbDevice>& list) {
  w.key(key).begin_array();
  for (const auto& d : list) write_json(w, d);
  w.end_array();
}

}  // namespace

void write_json(JsonWriter& w, const UsbDevice& d) {
  w.begin_object();
  w.field("port_path", d.port_path);
  w.field("sysname", d.sysname);
  w.field("syspath", d.syspath);
  w.field("bus", d.busnum);
  w.field("dev", d.devnum);
  w.field("devnode", d.devnode);
  w.field("vendor", hex4(d.vendor));
  w.field("product", hex4(d.product));
  w.field("manufacturer", d.manufacturer);
  w.field("product_name", d.product_name);
  w.field("serial", d.serial);
  w.field("speed", d.speed);
  w.field("version", d.version);
  w.field("class", static_cast<unsigned>(d.device_class));
  w.field("authorized", d.authorized);
  w.field("hub", d.is_hub);
  w.field("root_hub", d.is_root_hub);
  w.field("driver", d.driver);
  w.key("interfaces").begin_array();
  for (const auto& i : d.interfaces) {
    w.begin_object();
    w.field("sysname", i.sysname);
    w.field("number", static_cast<unsigned>(i.number));
    w.field("class", static_cast<unsigned>(i.cls));
    w.field("subclass", static_cast<unsigned>(i.subclass));
    w.field("protocol", static_cast<unsigned>(i.protocol));
    w.field("driver", i.driver);
    w.end_object();
  }
  w.end_array();
  w.key("mounts").begin_array();
  for (const auto& m : d.mounts) w.value(m);
  w.end_array();
  w.key("table_entry");
  if (d.table_name.empty()) {
    w.null();
  } else {
    w.begin_object().field("name", d.table_name).field("source", d.table_source).end_object();
  }
  w.end_object();
}

void write_hub_json(JsonWriter& w, const Hub& h) {
  w.begin_object();
  w.field("ports", h.nports);
  w.field("power_switching", to_string(h.switching));
  w.field("power_on_to_good_ms", h.power_on_to_good_ms);
  w.field("superspeed", h.superspeed);
  w.key("descriptor_error");
  if (h.descriptor_error.empty()) {
    w.null();
  } else {
    w.value(h.descriptor_error);
  }
  w.end_object();
}

void write_json(JsonWriter& w, const Port& p) {
  w.begin_object();
  w.field("number", p.number);
  w.field("syspath", p.syspath);
  w.key("disabled");
  if (p.disabled) {
    w.value(*p.disabled);
  } else {
    w.null();
  }
  w.field("peer", p.peer_syspath);
  w.field("connect_type", p.connect_type);
  w.end_object();
}

void write_json(JsonWriter& w, const Controller& c) {
  w.begin_object();
  w.field("name", c.name);
  w.field("syspath", c.syspath);
  w.field("subsystem", c.subsystem);
  w.field("driver", c.driver);
  w.key("buses").begin_array();
  for (unsigned b : c.buses) w.value(b);
  w.end_array();
  w.end_object();
}

void write_json(JsonWriter& w, const Snapshot& s) {
  w.begin_object();
  w.key("device");
  write_json(w, s.device);
  w.key("hub");
  if (s.hub) {
    w.begin_object().key("device");
    write_json(w, s.hub->device);
    w.key("descriptor");
    write_hub_json(w, *s.hub);
    w.end_object();
  } else {
    w.null();
  }
  w.key("port");
  if (s.port) {
    write_json(w, *s.port);
  } else {
    w.null();
  }
  w.key("peer_hub");
  if (s.peer_hub) {
    w.begin_object().key("device");
    write_json(w, s.peer_hub->device);
    w.key("descriptor");
    write_hub_json(w, *s.peer_hub);
    w.end_object();
  } else {
    w.null();
  }
  write_devices(w, "hub_siblings", s.hub_siblings);
  write_devices(w, "gang_siblings", s.gang_siblings);
  write_devices(w, "controller_devices", s.controller_devices);
  w.key("controller");
  write_json(w, s.controller);
  w.end_object();
}

}  // namespace usbrecover
