#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H

#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic macros-over-functions, which Swift cannot
// call. These typed wrappers give Swift one entry point per argument type.

static inline CURLcode lifeboat_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode lifeboat_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode lifeboat_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode lifeboat_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode lifeboat_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*lifeboat_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);

static inline CURLcode lifeboat_curl_setopt_callback(CURL *handle, CURLoption option, lifeboat_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

typedef int (*lifeboat_curl_progress_callback)(void *context, curl_off_t download_total, curl_off_t download_now, curl_off_t upload_total, curl_off_t upload_now);

static inline CURLcode lifeboat_curl_setopt_progress(CURL *handle, lifeboat_curl_progress_callback value) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, value);
}

static inline long lifeboat_curl_response_code(CURL *handle) {
    long code = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

/// Byte-for-byte header and body reading wants `CURL_READFUNC_ABORT`, which is a macro Swift cannot see.
static inline size_t lifeboat_curl_readfunc_abort(void) {
    return CURL_READFUNC_ABORT;
}

#endif
