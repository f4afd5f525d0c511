#ifndef MLOPS_CCURL_H
#define MLOPS_CCURL_H

#include <stddef.h>

/// POSTs `body` to `url` with the given header lines ("Name: value") through libcurl, which is
/// loaded with dlopen on the first call: mlops does not link libcurl and its TLS stack (6 MB of
/// memory and thirty libraries to load at every start) for webhooks that most processes never send.
/// The response body is discarded. Returns the HTTP status, or -1 with a message in `error`.
int mlops_http_post(const char *url, const char *body, size_t body_length,
                    const char *const *headers, int header_count, long timeout_ms,
                    char *error, size_t error_capacity);

#endif
