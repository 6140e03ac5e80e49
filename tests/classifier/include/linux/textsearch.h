/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KFW_HOST_TEXTSEARCH_H
#define _KFW_HOST_TEXTSEARCH_H

/*
 * payload.h names struct ts_config; the host never searches payloads
 * (the generators make no payload rules), so the name is all it needs.
 */
struct ts_config;

#endif /* _KFW_HOST_TEXTSEARCH_H */
