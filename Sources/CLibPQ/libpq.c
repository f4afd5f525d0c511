#include "CLibPQ.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// From libpq-fe.h: CONNECTION_OK, PGRES_COMMAND_OK, PGRES_TUPLES_OK, PG_DIAG_SQLSTATE.
enum { CONNECTION_OK = 0, PGRES_COMMAND_OK = 1, PGRES_TUPLES_OK = 2, DIAG_SQLSTATE = 'C' };

typedef void (*notice_processor)(void *, const char *);

static struct {
    mlops_pg_conn *(*connectdb)(const char *);
    int (*status)(const mlops_pg_conn *);
    char *(*error_message)(const mlops_pg_conn *);
    void (*finish)(mlops_pg_conn *);
    notice_processor (*set_notice_processor)(mlops_pg_conn *, notice_processor, void *);
    mlops_pg_result *(*exec_params)(mlops_pg_conn *, const char *, int, const unsigned int *, const char *const *,
                                    const int *, const int *, int);
    mlops_pg_result *(*exec)(mlops_pg_conn *, const char *);
    int (*result_status)(const mlops_pg_result *);
    char *(*result_error_field)(const mlops_pg_result *, int);
    char *(*result_error_message)(const mlops_pg_result *);
    int (*ntuples)(const mlops_pg_result *);
    int (*nfields)(const mlops_pg_result *);
    char *(*fname)(const mlops_pg_result *, int);
    unsigned int (*ftype)(const mlops_pg_result *, int);
    char *(*getvalue)(const mlops_pg_result *, int, int);
    int (*getlength)(const mlops_pg_result *, int, int);
    int (*getisnull)(const mlops_pg_result *, int, int);
    char *(*cmd_tuples)(mlops_pg_result *);
    void (*clear)(mlops_pg_result *);
    char load_error[512];
    int loaded;
} pq;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    void *lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libpq.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(pq.load_error, sizeof pq.load_error,
                 "a PostgreSQL store needs libpq, which is not installed (%s); install it (apt-get install libpq5)", dlerror());
        return;
    }
#define SYMBOL(field, name) *(void **)(&pq.field) = dlsym(lib, name); if (!pq.field) { \
        snprintf(pq.load_error, sizeof pq.load_error, "the libpq found lacks %s; install libpq5 from PostgreSQL 14 or later", name); return; }
    SYMBOL(connectdb, "PQconnectdb");
    SYMBOL(status, "PQstatus");
    SYMBOL(error_message, "PQerrorMessage");
    SYMBOL(finish, "PQfinish");
    SYMBOL(set_notice_processor, "PQsetNoticeProcessor");
    SYMBOL(exec_params, "PQexecParams");
    SYMBOL(exec, "PQexec");
    SYMBOL(result_status, "PQresultStatus");
    SYMBOL(result_error_field, "PQresultErrorField");
    SYMBOL(result_error_message, "PQresultErrorMessage");
    SYMBOL(ntuples, "PQntuples");
    SYMBOL(nfields, "PQnfields");
    SYMBOL(fname, "PQfname");
    SYMBOL(ftype, "PQftype");
    SYMBOL(getvalue, "PQgetvalue");
    SYMBOL(getlength, "PQgetlength");
    SYMBOL(getisnull, "PQgetisnull");
    SYMBOL(cmd_tuples, "PQcmdTuples");
    SYMBOL(clear, "PQclear");
#undef SYMBOL
    pq.loaded = 1;
}

int mlops_pq_load(char *error, size_t error_capacity) {
    pthread_once(&load_once, load);
    if (pq.loaded) return 0;
    snprintf(error, error_capacity, "%s", pq.load_error);
    return -1;
}

mlops_pg_conn *mlops_pq_connect(const char *conninfo) { return pq.connectdb(conninfo); }
int mlops_pq_connection_ok(const mlops_pg_conn *conn) { return conn && pq.status(conn) == CONNECTION_OK; }
const char *mlops_pq_error_message(const mlops_pg_conn *conn) { return conn ? pq.error_message(conn) : "out of memory"; }
void mlops_pq_finish(mlops_pg_conn *conn) { if (conn) pq.finish(conn); }

static void ignore_notice(void *context, const char *message) {
    (void)context;
    (void)message;
}

void mlops_pq_silence_notices(mlops_pg_conn *conn) { pq.set_notice_processor(conn, ignore_notice, NULL); }

mlops_pg_result *mlops_pq_exec_params(mlops_pg_conn *conn, const char *command, int n_params,
                                      const unsigned int *types, const char *const *values,
                                      const int *lengths, const int *formats) {
    return pq.exec_params(conn, command, n_params, types, values, lengths, formats, 0);
}

mlops_pg_result *mlops_pq_exec(mlops_pg_conn *conn, const char *command) { return pq.exec(conn, command); }

int mlops_pq_result_ok(const mlops_pg_result *result) {
    if (!result) return 0;
    int status = pq.result_status(result);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

const char *mlops_pq_sqlstate(const mlops_pg_result *result) {
    const char *state = result ? pq.result_error_field(result, DIAG_SQLSTATE) : NULL;
    return state ? state : "";
}

const char *mlops_pq_result_error(const mlops_pg_result *result) {
    return result ? pq.result_error_message(result) : "no result (the connection was lost)";
}

int mlops_pq_ntuples(const mlops_pg_result *result) { return pq.ntuples(result); }
int mlops_pq_nfields(const mlops_pg_result *result) { return pq.nfields(result); }
const char *mlops_pq_fname(const mlops_pg_result *result, int column) { return pq.fname(result, column); }
unsigned int mlops_pq_ftype(const mlops_pg_result *result, int column) { return pq.ftype(result, column); }
const char *mlops_pq_getvalue(const mlops_pg_result *result, int row, int column) { return pq.getvalue(result, row, column); }
int mlops_pq_getlength(const mlops_pg_result *result, int row, int column) { return pq.getlength(result, row, column); }
int mlops_pq_getisnull(const mlops_pg_result *result, int row, int column) { return pq.getisnull(result, row, column); }

long mlops_pq_cmd_tuples(mlops_pg_result *result) {
    const char *text = pq.cmd_tuples(result);
    return text && *text ? strtol(text, NULL, 10) : 0;
}

void mlops_pq_clear(mlops_pg_result *result) { if (result) pq.clear(result); }
