// The only C in regionwatch: a shim over ncursesw for what Swift cannot import directly
// (function-like macros, attribute constants, and globals rejected by strict concurrency).
#ifndef REGIONWATCH_CNCURSES_SHIM_H
#define REGIONWATCH_CNCURSES_SHIM_H

// pkg-config flags are dropped by the package manager, so the wide-character API is
// switched on here, before the header.
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif

#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>

// Globals, read through functions so Swift 6 strict concurrency accepts them.
static inline WINDOW *rw_stdscr(void) { return stdscr; }
static inline int rw_colors(void) { return COLORS; }
static inline int rw_color_pairs(void) { return COLOR_PAIRS; }
static inline FILE *rw_stdout(void) { return stdout; }
static inline FILE *rw_stdin(void) { return stdin; }

// Macros.
static inline int rw_getmaxy(WINDOW *window) { return getmaxy(window); }
static inline int rw_getmaxx(WINDOW *window) { return getmaxx(window); }
static inline int rw_key_f(int n) { return KEY_F(n); }

static inline attr_t rw_a_normal(void) { return A_NORMAL; }
static inline attr_t rw_a_bold(void) { return A_BOLD; }
static inline attr_t rw_a_dim(void) { return A_DIM; }
static inline attr_t rw_a_underline(void) { return A_UNDERLINE; }
static inline attr_t rw_a_reverse(void) { return A_REVERSE; }
static inline attr_t rw_a_italic(void) { return A_ITALIC; }
static inline attr_t rw_a_blink(void) { return A_BLINK; }

/// Sets attributes and an extended colour pair (pairs above 32767 need the opts pointer).
static inline int rw_set_attributes(WINDOW *window, attr_t attributes, int pair) {
    return wattr_set(window, attributes, 0, &pair);
}

/// Queries a boolean terminfo capability (returns 1, 0, or -1 when it is not a boolean).
static inline int rw_tigetflag(const char *name) { return tigetflag(name); }

/// Whether a string capability exists for the current terminal (for example "cup").
static inline int rw_has_string_capability(const char *name) {
    char *value = tigetstr(name);
    return value != NULL && value != (char *)-1;
}

#endif
