/* SPDX-License-Identifier: MIT */
/*
 * The registry: a per-user runtime directory (mode 0700) with
 *   slots/N            one file per slot; a process owns slot N while it holds
 *                      a POSIX write lock on it (released by the kernel when
 *                      the process dies, so a crashed process frees its slot)
 *   services/NAME.lock a service is live while its server holds a write lock
 *                      on it; the file holds "pid slot key" for tools
 *   services/NAME.sock the server's listening SOCK_SEQPACKET socket
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

struct rpal_service {
    int fd;        /* listening socket, non-blocking */
    int lock_fd;   /* services/NAME.lock, write-locked */
    uint64_t key;
    char name[RPAL_NAME_MAX + 1];
    struct rpal_service *next;
};

/* One registration or unregistration at a time in this process. POSIX
 * record locks belong to the process, not the fd: a second registration of
 * a name we serve would get the lock again (and steal the first one's
 * socket), and closing either lock fd drops the lock for both. So names
 * this process serves are checked in g_rt.services under this lock. */
static pthread_mutex_t s_reg_lock = PTHREAD_MUTEX_INITIALIZER;

static int lock_file(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &fl) == 0)
        return 0;
    return errno == EACCES || errno == EAGAIN ? -EBUSY : -errno;
}

int registry_open(struct rpal_runtime *rt, const char *dir)
{
    const char *env = getenv("RPAL_RUNTIME_DIR");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (dir)
        n = snprintf(rt->dir, sizeof rt->dir, "%s", dir);
    else if (env && *env)
        n = snprintf(rt->dir, sizeof rt->dir, "%s", env);
    else if (xdg && *xdg)
        n = snprintf(rt->dir, sizeof rt->dir, "%s/rpal", xdg);
    else
        n = snprintf(rt->dir, sizeof rt->dir, "/tmp/rpal-%u", (unsigned)geteuid());
    if (n < 0 || (size_t)n >= sizeof rt->dir)
        return -ENAMETOOLONG;
    if (mkdir(rt->dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    int fd = open(rt->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
        rpal_log(LOG_ERR, "runtime directory %s must be owned by uid %u with mode 0700",
                 rt->dir, (unsigned)geteuid());
        close(fd);
        return -EPERM;
    }
    if ((mkdirat(fd, "slots", 0700) < 0 && errno != EEXIST) ||
        (mkdirat(fd, "services", 0700) < 0 && errno != EEXIST)) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    rt->dirfd = fd;
    return 0;
}

void registry_close(struct rpal_runtime *rt)
{
    if (rt->slot_lock_fd >= 0)
        close(rt->slot_lock_fd);
    if (rt->dirfd >= 0)
        close(rt->dirfd);
    rt->slot_lock_fd = rt->dirfd = -1;
    rt->slot = -1;
}

int registry_take_slot(struct rpal_runtime *rt)
{
    for (uint32_t i = 0; i < rt->opt.slot_count; i++) {
        char name[32];
        snprintf(name, sizeof name, "slots/%u", i);
        int fd = openat(rt->dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return -errno;
        int rc = lock_file(fd);
        if (rc == 0) {
            char info[32];
            int n = snprintf(info, sizeof info, "%d\n", (int)rt->pid);
            if (ftruncate(fd, 0) < 0 || pwrite(fd, info, (size_t)n, 0) < 0)
                rpal_log(LOG_WARN, "cannot record pid in slot %u: %s", i, strerror(errno));
            rt->slot = (int)i;
            rt->slot_lock_fd = fd;
            return 0;
        }
        close(fd);
        if (rc != -EBUSY)
            return rc;
    }
    rpal_log(LOG_ERR, "all %u slots are taken", rt->opt.slot_count);
    return -EUSERS;
}

int registry_check_name(const char *name)
{
    if (!name || !*name || name[0] == '.')
        return -EINVAL;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        if (!ok)
            return -EINVAL;
        if (n >= RPAL_NAME_MAX)
            return -ENAMETOOLONG;
    }
    return 0;
}

int registry_socket_path(const char *name, char *out, size_t n)
{
    int rc = registry_check_name(name);
    if (rc < 0)
        return rc;
    struct sockaddr_un sun;
    int len = snprintf(out, n, "%s/services/%s.sock", g_rt.dir, name);
    if (len < 0 || (size_t)len >= n || (size_t)len >= sizeof sun.sun_path)
        return -ENAMETOOLONG;
    return 0;
}

RPAL_API int rpal_register_service(const char *name, struct rpal_service **out, uint64_t *key)
{
    if (!out)
        return -EINVAL;
    if (!g_rt.started)
        return -ENOTCONN;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int rc = registry_socket_path(name, sun.sun_path, sizeof sun.sun_path);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&s_reg_lock);
    pthread_mutex_lock(&g_rt.lock);
    for (struct rpal_service *o = g_rt.services; o; o = o->next)
        if (strcmp(o->name, name) == 0)
            rc = -EADDRINUSE;
    pthread_mutex_unlock(&g_rt.lock);
    if (rc < 0) {
        pthread_mutex_unlock(&s_reg_lock);
        return rc;
    }
    struct rpal_service *s = calloc(1, sizeof *s);
    if (!s) {
        pthread_mutex_unlock(&s_reg_lock);
        return -ENOMEM;
    }
    s->fd = s->lock_fd = -1;
    strcpy(s->name, name);

    char lock_name[RPAL_NAME_MAX + 32];
    snprintf(lock_name, sizeof lock_name, "services/%s.lock", name);
    s->lock_fd = openat(g_rt.dirfd, lock_name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        rc = -errno;
        goto fail;
    }
    if ((rc = lock_file(s->lock_fd)) < 0) {
        if (rc == -EBUSY)
            rc = -EADDRINUSE;
        goto fail;
    }
    /* We hold the lock: any socket file left there belongs to a dead server. */
    if (unlink(sun.sun_path) < 0 && errno != ENOENT) {
        rc = -errno;
        goto fail;
    }
    s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        rc = -errno;
        goto fail;
    }
    if (bind(s->fd, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(s->fd, 128) < 0) {
        rc = -errno;
        goto fail;
    }
    do {
        if (getrandom(&s->key, sizeof s->key, 0) != sizeof s->key) {
            rc = -EIO;
            goto fail;
        }
    } while (s->key == 0);
    char info[96];
    int n = snprintf(info, sizeof info, "%d %d %016llx\n", (int)g_rt.pid, g_rt.slot,
                     (unsigned long long)s->key);
    if (ftruncate(s->lock_fd, 0) < 0 || pwrite(s->lock_fd, info, (size_t)n, 0) < 0)
        rpal_log(LOG_WARN, "cannot record service %s: %s", name, strerror(errno));

    pthread_mutex_lock(&g_rt.lock);
    s->next = g_rt.services;
    g_rt.services = s;
    pthread_mutex_unlock(&g_rt.lock);
    pthread_mutex_unlock(&s_reg_lock);
    *out = s;
    if (key)
        *key = s->key;
    return 0;
fail:
    if (s->fd >= 0)
        close(s->fd);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s);
    pthread_mutex_unlock(&s_reg_lock);
    return rc;
}

RPAL_API int rpal_unregister_service(struct rpal_service *svc)
{
    if (!svc)
        return -EINVAL;
    pthread_mutex_lock(&s_reg_lock);
    pthread_mutex_lock(&g_rt.lock);
    struct rpal_service **pp = &g_rt.services;
    while (*pp && *pp != svc)
        pp = &(*pp)->next;
    if (!*pp) {
        pthread_mutex_unlock(&g_rt.lock);
        pthread_mutex_unlock(&s_reg_lock);
        return -EINVAL;
    }
    *pp = svc->next;
    pthread_mutex_unlock(&g_rt.lock);
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if (registry_socket_path(svc->name, path, sizeof path) == 0)
        unlink(path);
    close(svc->fd);
    close(svc->lock_fd); /* releases the lock; the file stays for the next owner */
    free(svc);
    pthread_mutex_unlock(&s_reg_lock);
    return 0;
}

RPAL_API int rpal_service_fd(const struct rpal_service *svc) { return svc ? svc->fd : -EINVAL; }

RPAL_API int rpal_accept(struct rpal_service *svc, struct rpal_conn **conn)
{
    if (!svc || !conn)
        return -EINVAL;
    int fd = accept4(svc->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return handshake_server(fd, svc->name, svc->key, conn);
}

RPAL_API int rpal_request_service(const char *name, struct rpal_conn **conn)
{
    if (!conn)
        return -EINVAL;
    if (!g_rt.started)
        return -ENOTCONN;
    return handshake_client(name, conn);
}
