#ifndef MLOPS_CLIBPQ_H
#define MLOPS_CLIBPQ_H

#include <stddef.h>

/// libpq, PostgreSQL's client library (the one psql and psycopg use), loaded with dlopen when a
/// PostgreSQL store is first opened: building mlops needs no libpq headers, and a process on the
/// embedded SQLite store never loads it. Declared here from libpq's stable ABI (libpq.so.5).
typedef struct pg_conn mlops_pg_conn;
typedef struct pg_result mlops_pg_result;

/// 0 when libpq is loaded; -1 with the reason (and what to install) in `error`.
int mlops_pq_load(char *error, size_t error_capacity);

mlops_pg_conn *mlops_pq_connect(const char *conninfo);
int mlops_pq_connection_ok(const mlops_pg_conn *conn);
const char *mlops_pq_error_message(const mlops_pg_conn *conn);
void mlops_pq_finish(mlops_pg_conn *conn);
/// Turns the server's NOTICE messages off (they would go to stderr).
void mlops_pq_silence_notices(mlops_pg_conn *conn);

/// PQexecParams with text-format parameters and results.
mlops_pg_result *mlops_pq_exec_params(mlops_pg_conn *conn, const char *command, int n_params,
                                      const unsigned int *types, const char *const *values,
                                      const int *lengths, const int *formats);
mlops_pg_result *mlops_pq_exec(mlops_pg_conn *conn, const char *command);

/// 1 when the command succeeded (with or without rows), 0 otherwise.
int mlops_pq_result_ok(const mlops_pg_result *result);
/// The SQLSTATE of a failed command, or "" (five characters, such as 40001).
const char *mlops_pq_sqlstate(const mlops_pg_result *result);
const char *mlops_pq_result_error(const mlops_pg_result *result);
int mlops_pq_ntuples(const mlops_pg_result *result);
int mlops_pq_nfields(const mlops_pg_result *result);
const char *mlops_pq_fname(const mlops_pg_result *result, int column);
unsigned int mlops_pq_ftype(const mlops_pg_result *result, int column);
const char *mlops_pq_getvalue(const mlops_pg_result *result, int row, int column);
int mlops_pq_getlength(const mlops_pg_result *result, int row, int column);
int mlops_pq_getisnull(const mlops_pg_result *result, int row, int column);
/// Rows a command changed (INSERT, UPDATE, DELETE), or 0.
long mlops_pq_cmd_tuples(mlops_pg_result *result);
void mlops_pq_clear(mlops_pg_result *result);

#endif
