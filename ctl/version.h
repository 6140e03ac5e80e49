/* SPDX-License-Identifier: GPL-2.0 */
#ifndef FWCTL_VERSION_H
#define FWCTL_VERSION_H

#define FWCTL_VERSION	"0.1.0"

#endif /* FWCTL_VERSION_H */
