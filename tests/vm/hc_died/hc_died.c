// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * hc_died: the test bed's way to make a host controller die. Loaded with
 * `insmod hc_died.ko controller=0000:00:04.0`, it calls usb_hc_died() on the controller's HCD,
 * as a controller driver does when its hardware stops answering: the kernel logs "HC died;
 * cleaning up", marks the root hubs not attached (usbfs then refuses them with ENODEV) and
 * disconnects every device below them. Nothing comes back until the controller is bound to its
 * driver again. qemu's xHCI cannot be made to fail, so only the cause is ours; everything after
 * it is the kernel's own handling of a dead controller.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/usb.h>
#include <linux/usb/hcd.h>

static char *controller;
module_param(controller, charp, 0);
MODULE_PARM_DESC(controller, "the PCI address of the host controller to kill");

static int __init hc_died_init(void)
{
	struct device *dev;
	struct usb_hcd *hcd;

	if (!controller)
		return -EINVAL;
	dev = bus_find_device_by_name(&pci_bus_type, NULL, controller);
	if (!dev)
		return -ENODEV;
	/* usb_hcd_pci_probe() leaves the primary HCD as the PCI device's driver data. */
	hcd = dev->driver ? dev_get_drvdata(dev) : NULL;
	if (hcd)
		usb_hc_died(hcd);
	put_device(dev);
	return hcd ? 0 : -ENXIO;
}

static void __exit hc_died_exit(void)
{
}

module_init(hc_died_init);
module_exit(hc_died_exit);
MODULE_DESCRIPTION("usbrecover test bed: make a USB host controller die");
MODULE_LICENSE("Dual MIT/GPL");
