/* aviary/compat.h - compiler attributes shared by every module.
 *
 * Kept tiny on purpose: only the attributes the style guide asks for
 * (warn_unused_result on anything that can fail, printf checking) and
 * the array-size helper. No includes beyond <stddef.h>.
 */
#ifndef AVIARY_COMPAT_H
#define AVIARY_COMPAT_H

#include <stddef.h>

#define AV_WARN_UNUSED		__attribute__((warn_unused_result))
#define AV_PRINTFLIKE(f, a)	__attribute__((format(printf, f, a)))
#define AV_NORETURN		__attribute__((noreturn))
#define AV_UNUSED		__attribute__((unused))
#define N_ELEMENTS(a)		(sizeof(a) / sizeof((a)[0]))

#endif
