#ifndef JOBRUNNER_CSQLITE_SHIM_H
#define JOBRUNNER_CSQLITE_SHIM_H

#include <sqlite3.h>

// Swift cannot import C macros that are not plain integer literals, nor variadic functions.
// Only what Swift cannot reach directly lives here.

static const int jr_sqlite_ok = SQLITE_OK;
static const int jr_sqlite_row = SQLITE_ROW;
static const int jr_sqlite_done = SQLITE_DONE;

#endif
