/*
 * libre, for the files of the thin layer over it (ua.c, tmr.c) and no other:
 * its headers define short names (str_, list_, conf_, mem_) that must not
 * meet the rest of the project.  CMakeLists.txt gives exactly those files
 * the definitions libre's headers need.
 */
#ifndef RT_SIP_LIBRE_H
#define RT_SIP_LIBRE_H

#if !defined(HAVE_STDBOOL_H) || !defined(HAVE_INTTYPES_H) || !defined(RELEASE)
/* Without HAVE_STDBOOL_H, bool is a signed char macro; without RELEASE,
 * mbuf debugging inserts breakpoints. */
#error "only files listed in RT_LIBRE_SOURCES (CMakeLists.txt) include libre"
#endif

/* Defined here rather than on the command line: re_mbuf.h tests it, and
 * the project builds with -Wundef. */
#ifndef MBUF_DEBUG
#define MBUF_DEBUG 0
#endif

#include <re.h>
/* For dbg_handler_set, which routes libre's own messages into rt_log. */
#define DEBUG_MODULE "ringtrail"
#define DEBUG_LEVEL  0
#include <re_dbg.h>

#endif
