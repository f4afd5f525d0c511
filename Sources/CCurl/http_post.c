#include "CCurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// libcurl's stable ABI: option numbers and signatures from curl/curl.h, so that no curl headers
// are needed to build and no libcurl to start.
enum {
    OPT_URL = 10002, OPT_POSTFIELDS = 10015, OPT_ERRORBUFFER = 10010, OPT_HTTPHEADER = 10023,
    OPT_WRITEFUNCTION = 20011, OPT_POSTFIELDSIZE_LARGE = 30120, OPT_POST = 47, OPT_NOSIGNAL = 99,
    OPT_TIMEOUT_MS = 155, OPT_CONNECTTIMEOUT_MS = 156, INFO_RESPONSE_CODE = 0x200002,
    GLOBAL_DEFAULT = 3, ERROR_SIZE = 256,
};

struct slist;
static struct {
    int (*global_init)(long);
    void *(*easy_init)(void);
    int (*easy_setopt)(void *, int, ...);
    int (*easy_perform)(void *);
    int (*easy_getinfo)(void *, int, ...);
    void (*easy_cleanup)(void *);
    const char *(*easy_strerror)(int);
    struct slist *(*slist_append)(struct slist *, const char *);
    void (*slist_free_all)(struct slist *);
    char load_error[256];
} curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(curl.load_error, sizeof curl.load_error,
                 "webhooks need libcurl, which is not installed (%s); install libcurl4 (apt-get install libcurl4)", dlerror());
        return;
    }
#define SYMBOL(field, name) *(void **)(&curl.field) = dlsym(lib, name)
    SYMBOL(global_init, "curl_global_init");
    SYMBOL(easy_init, "curl_easy_init");
    SYMBOL(easy_setopt, "curl_easy_setopt");
    SYMBOL(easy_perform, "curl_easy_perform");
    SYMBOL(easy_getinfo, "curl_easy_getinfo");
    SYMBOL(easy_cleanup, "curl_easy_cleanup");
    SYMBOL(easy_strerror, "curl_easy_strerror");
    SYMBOL(slist_append, "curl_slist_append");
    SYMBOL(slist_free_all, "curl_slist_free_all");
#undef SYMBOL
    if (!curl.global_init || !curl.easy_init || !curl.easy_setopt || !curl.easy_perform || !curl.easy_getinfo ||
        !curl.easy_cleanup || !curl.easy_strerror || !curl.slist_append || !curl.slist_free_all) {
        snprintf(curl.load_error, sizeof curl.load_error, "the libcurl found lacks curl_easy functions");
        curl.easy_init = NULL;
        return;
    }
    curl.global_init(GLOBAL_DEFAULT);
}

static size_t discard(char *data, size_t size, size_t count, void *context) {
    (void)data;
    (void)context;
    return size * count;
}

int mlops_http_post(const char *url, const char *body, size_t body_length,
                    const char *const *headers, int header_count, long timeout_ms,
                    char *error, size_t error_capacity) {
    pthread_once(&load_once, load);
    if (!curl.easy_init) {
        snprintf(error, error_capacity, "%s", curl.load_error);
        return -1;
    }
    if (!body) body = "";
    void *handle = curl.easy_init();
    if (!handle) {
        snprintf(error, error_capacity, "curl_easy_init failed");
        return -1;
    }
    struct slist *list = NULL;
    for (int i = 0; i < header_count; i++) list = curl.slist_append(list, headers[i]);
    char message[ERROR_SIZE] = {0};
    curl.easy_setopt(handle, OPT_ERRORBUFFER, message);
    curl.easy_setopt(handle, OPT_URL, url);
    curl.easy_setopt(handle, OPT_POST, 1L);
    curl.easy_setopt(handle, OPT_POSTFIELDS, body);
    curl.easy_setopt(handle, OPT_POSTFIELDSIZE_LARGE, (long long)body_length);
    curl.easy_setopt(handle, OPT_HTTPHEADER, list);
    curl.easy_setopt(handle, OPT_WRITEFUNCTION, discard);
    curl.easy_setopt(handle, OPT_NOSIGNAL, 1L);
    curl.easy_setopt(handle, OPT_TIMEOUT_MS, timeout_ms);
    curl.easy_setopt(handle, OPT_CONNECTTIMEOUT_MS, timeout_ms);
    int code = curl.easy_perform(handle);
    long status = -1;
    if (code == 0) {
        curl.easy_getinfo(handle, INFO_RESPONSE_CODE, &status);
    } else {
        snprintf(error, error_capacity, "%s", message[0] ? message : curl.easy_strerror(code));
    }
    curl.easy_cleanup(handle);
    curl.slist_free_all(list);
    return (int)status;
}
