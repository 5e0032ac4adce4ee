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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

/* One registration or unregistration at a time in this process. POSIX
 * record locks belong to the process, not the fd: a second registration of
 * a name we serve would get the lock again (and steal the first one's
 * socket), and closing either lock fd drops the lock for both. So names
 * this process serves are checked in g_rt.services under this lock. */
static pthread_mutex_t s_reg_lock = PTHREAD_MUTEX_INITIALIZER;

/* Size of a runtime directory's path buffer, its NUL included (g_rt.dir). */
#define RPAL_DIR_MAX ((int)sizeof g_rt.dir)

static int lock_file(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &fl) == 0)
        return 0;
    return errno == EACCES || errno == EAGAIN ? -EBUSY : -errno;
}

/* Whether this process is a member of group g (effective or supplementary). */
static bool in_group(gid_t g)
{
    if (getegid() == g)
        return true;
    gid_t groups[256];
    int n = getgroups(256, groups);
    for (int i = 0; i < n; i++)
        if (groups[i] == g)
            return true;
    return false;
}

/* Mode of the directories and files of the registry: private to this uid,
 * or shared with the runtime group (setgid, so entries inherit the group). */
static bool shared(const struct rpal_runtime *rt) { return rt->opt.runtime_group >= 0; }

/* Gives a file or directory we just created its mode whatever the umask. */
static void own_mode(const struct rpal_runtime *rt, int dirfd, const char *name, mode_t shared_mode)
{
    if (shared(rt))
        fchmodat(dirfd, name, shared_mode, 0);
}

static int check_dir(const struct rpal_runtime *rt, int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    uid_t me = geteuid();
    if (!shared(rt)) {
        if (st.st_uid == me && !(st.st_mode & 077))
            return 0;
        rpal_log(LOG_ERR, RPAL_LOG_RUNTIME_DIR,
                 "runtime directory %s must be owned by uid %u with mode 0700 (it is uid %u, "
                 "mode %04o); set RPAL_RUNTIME_GROUP to share one with a group",
                 rt->dir, (unsigned)me, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        return -EPERM;
    }
    gid_t g = (gid_t)rt->opt.runtime_group;
    const char *why = NULL;
    if (st.st_uid != me && st.st_uid != 0)
        why = "owned by another user";
    else if (st.st_gid != g)
        why = "of another group";
    else if (st.st_mode & 07)
        why = "open to others";
    else if ((st.st_mode & 02070) != 02070)
        why = "not mode 2770 (setgid, group rwx)";
    else if (!in_group(g))
        why = "of a group this process is not in";
    if (!why)
        return 0;
    rpal_log(LOG_ERR, RPAL_LOG_RUNTIME_DIR,
             "shared runtime directory %s is %s: it must be mode 2770 or 3770, group %u, owned "
             "by uid %u or root (it is uid %u, gid %u, mode %04o)",
             rt->dir, why, (unsigned)g, (unsigned)me, (unsigned)st.st_uid, (unsigned)st.st_gid,
             (unsigned)(st.st_mode & 07777));
    return -EPERM;
}

/* Creates the subdirectories of the directory open as fd (those that exist
 * are left alone). */
static int make_subdirs(const struct rpal_runtime *rt, int fd)
{
    mode_t dmode = shared(rt) ? 02770 : 0700;
    static const char *const subdirs[] = {"slots", "services"};
    for (int i = 0; i < 2; i++) {
        if (mkdirat(fd, subdirs[i], dmode) == 0)
            own_mode(rt, fd, subdirs[i], dmode);
        else if (errno != EEXIST)
            return -errno;
    }
    return 0;
}

/* Creates rt->dir if it is missing, opens it and checks who may use it;
 * returns 0 and the directory's fd in *out. */
static int open_dir(const struct rpal_runtime *rt, int *out)
{
    mode_t dmode = shared(rt) ? 02770 : 0700;
    if (mkdir(rt->dir, dmode) == 0) {
        if (shared(rt) && chown(rt->dir, (uid_t)-1, (gid_t)rt->opt.runtime_group) < 0)
            rpal_log(LOG_ERR, RPAL_LOG_RUNTIME_DIR, "cannot give %s to group %lld: %s", rt->dir,
                     (long long)rt->opt.runtime_group, strerror(errno));
        own_mode(rt, AT_FDCWD, rt->dir, dmode);
    } else if (errno != EEXIST) {
        int rc = -errno;
        rpal_log(LOG_ERR, RPAL_LOG_RUNTIME_DIR,
                 "cannot create runtime directory %s: %s", rt->dir, strerror(-rc));
        return rc;
    }
    int fd = open(rt->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int rc = -errno;
        rpal_log(LOG_ERR, RPAL_LOG_RUNTIME_DIR,
                 "cannot open runtime directory %s: %s%s", rt->dir, strerror(-rc),
                 rc == -EACCES && shared(rt) ? " (is this process in its group?)" : "");
        return rc;
    }
    int rc = check_dir(rt, fd);
    if (rc == 0)
        rc = make_subdirs(rt, fd);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

/* The runtime directory's path (docs/api.md, "Runtime directory"): dir if
 * set, else from the environment and the runtime group (-1: private). The one
 * place that chooses it: rpal_init, rpal_runtime_dir and rpal_list_services
 * all come here. */
static int dir_path(const char *dir, int64_t group, char out[RPAL_DIR_MAX])
{
    const char *env = getenv("RPAL_RUNTIME_DIR");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (dir)
        n = snprintf(out, RPAL_DIR_MAX, "%s", dir);
    else if (env && *env)
        n = snprintf(out, RPAL_DIR_MAX, "%s", env);
    else if (xdg && *xdg && group < 0)
        n = snprintf(out, RPAL_DIR_MAX, "%s/rpal", xdg);
    else if (group >= 0)
        n = snprintf(out, RPAL_DIR_MAX, "/tmp/rpal-g%lld", (long long)group);
    else
        n = snprintf(out, RPAL_DIR_MAX, "/tmp/rpal-%u", (unsigned)geteuid());
    return n < 0 || n >= RPAL_DIR_MAX ? -ENAMETOOLONG : 0;
}

int registry_open(struct rpal_runtime *rt, const char *dir)
{
    int rc = dir_path(dir, rt->opt.runtime_group, rt->dir);
    if (rc < 0)
        return rc;
    return open_dir(rt, &rt->dirfd);
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
        if (fd < 0 && errno == EACCES && shared(rt))
            continue; /* another user's file, still being created: not ours to take */
        if (fd < 0)
            return -errno;
        if (shared(rt))
            fchmod(fd, 0660); /* peers of the group check who holds it */
        int rc = lock_file(fd);
        if (rc == 0) {
            char info[32];
            int n = snprintf(info, sizeof info, "%d\n", (int)rt->pid);
            if (ftruncate(fd, 0) < 0 || pwrite(fd, info, (size_t)n, 0) < 0)
                rpal_log(LOG_WARN, RPAL_LOG_REGISTRY,
                         "cannot record pid in slot %u: %s", i, strerror(errno));
            rt->slot = (int)i;
            rt->slot_lock_fd = fd;
            return 0;
        }
        close(fd);
        if (rc != -EBUSY)
            return rc;
    }
    rpal_log(LOG_ERR, RPAL_LOG_LIMIT, "all %u slots are taken", rt->opt.slot_count);
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

/* Copies a list of n ids into *out (NULL when empty). */
static int copy_ids(const uint32_t *v, uint32_t n, const uint32_t **out)
{
    *out = NULL;
    if (!n)
        return 0;
    if (!v || n > 65536)
        return -EINVAL;
    uint32_t *c = malloc(n * sizeof *c);
    if (!c)
        return -ENOMEM;
    memcpy(c, v, n * sizeof *c);
    *out = c;
    return 0;
}

static void service_free(struct rpal_service *s)
{
    for (uint32_t i = 0; i < s->npending; i++)
        close(s->pending[i].fd);
    if (s->ep_fd >= 0)
        close(s->ep_fd);
    if (s->timer_fd >= 0)
        close(s->timer_fd);
    if (s->spare_fd >= 0)
        close(s->spare_fd);
    pthread_mutex_destroy(&s->accept_lock);
    if (s->fd >= 0)
        close(s->fd);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the lock; the file stays for the next owner */
    free((void *)s->allow.uids);
    free((void *)s->allow.gids);
    free(s);
}

/* Writes "pid slot key" into the service's lock file, for tools. */
static void record_service(const struct rpal_service *s)
{
    char info[96];
    int n = snprintf(info, sizeof info, "%d %d %016llx\n", (int)g_rt.pid, g_rt.slot,
                     (unsigned long long)s->key);
    if (ftruncate(s->lock_fd, 0) < 0 || pwrite(s->lock_fd, info, (size_t)n, 0) < 0)
        rpal_log(LOG_WARN, RPAL_LOG_REGISTRY,
                 "cannot record service %s: %s", s->name, strerror(errno));
}

/* Binds a new listening socket at sun (whatever file was there goes: the
 * caller holds the name's lock, so it belonged to a dead or former owner);
 * returns 0, the socket in *fd and the socket file's identity. */
static int listen_at(const struct sockaddr_un *sun, int *fd, dev_t *dev, ino_t *ino)
{
    if (unlink(sun->sun_path) < 0 && errno != ENOENT)
        return -errno;
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    struct stat st;
    if (bind(s, (const struct sockaddr *)sun, sizeof *sun) < 0 || listen(s, 128) < 0 ||
        lstat(sun->sun_path, &st) < 0 ||
        /* connect() needs write permission on the socket file: the group's
         * members may knock; the handshake decides who gets in */
        (shared(&g_rt) && chmod(sun->sun_path, 0660) < 0)) {
        int rc = -errno;
        close(s);
        return rc;
    }
    *fd = s;
    *dev = st.st_dev;
    *ino = st.st_ino;
    return 0;
}

/* 1 when rel (under the runtime directory) is the file fd has open, 0 when
 * it is missing or another file, -errno when that cannot be told. */
static int is_file_at(const char *rel, int fd)
{
    struct stat a, b;
    if (fstat(fd, &b) < 0)
        return -errno;
    if (fstatat(g_rt.dirfd, rel, &a, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Whether the runtime directory's path still names the directory we hold. */
static int dir_intact(const struct rpal_runtime *rt)
{
    struct stat a, b;
    if (fstat(rt->dirfd, &b) < 0)
        return -errno;
    if (fstatat(AT_FDCWD, rt->dir, &a, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The pid holding the write lock on fd's file, or 0. */
static pid_t lock_holder(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    return fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK ? fl.l_pid : 0;
}

/* Opens and write-locks rel under the runtime directory, a file that is not
 * (or no longer) the one we hold: 0 and the fd, -EADDRINUSE when another
 * process holds it. Never opens a file this process holds a lock on (closing
 * that fd would drop the lock): callers have checked is_file_at() == 0. */
static int relock(const char *rel, int *out)
{
    int fd = openat(g_rt.dirfd, rel, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int rc = -errno;
        rpal_log(LOG_ERR, RPAL_LOG_REGISTRY, "cannot open %s/%s: %s", g_rt.dir, rel, strerror(-rc));
        return rc;
    }
    if (shared(&g_rt))
        fchmod(fd, 0660);
    int rc = lock_file(fd);
    if (rc < 0) {
        if (rc == -EBUSY) {
            rpal_log(LOG_ERR, RPAL_LOG_REGISTRY,
                     "%s/%s is held by pid %d now", g_rt.dir, rel, (int)lock_holder(fd));
            rc = -EADDRINUSE;
        }
        close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

/*
 * Puts this process back into the registry after its directory, or its slot
 * file, was removed or replaced: the directory is made (and checked) again
 * and swapped in under the same fd number (dup3: a thread that uses g_rt.dirfd
 * meanwhile sees the old directory or the new one, never a closed fd), and
 * the slot file is locked again. Under s_reg_lock. *repaired is set when
 * something was done.
 */
static int repair_process(bool *repaired)
{
    int rc = dir_intact(&g_rt);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        int fd;
        if ((rc = open_dir(&g_rt, &fd)) < 0)
            return rc;
        if (dup3(fd, g_rt.dirfd, O_CLOEXEC) < 0) {
            rc = -errno;
            close(fd);
            return rc;
        }
        close(fd);
        rpal_log(LOG_WARN, RPAL_LOG_REGISTRY_REPAIRED,
                 "runtime directory %s was removed or replaced: made it again",
                 g_rt.dir);
        *repaired = true;
    } else if ((rc = make_subdirs(&g_rt, g_rt.dirfd)) < 0) {
        return rc;
    }
    char slot[32];
    snprintf(slot, sizeof slot, "slots/%d", g_rt.slot);
    if ((rc = is_file_at(slot, g_rt.slot_lock_fd)) < 0)
        return rc;
    if (rc == 0) {
        int fd;
        if ((rc = relock(slot, &fd)) < 0) {
            rpal_log(LOG_ERR, RPAL_LOG_REGISTRY,
                     "slot %d of pid %d was taken by another process while its file was "
                     "gone: peers cannot check it; restart this process", g_rt.slot, (int)g_rt.pid);
            return rc;
        }
        char info[32];
        int n = snprintf(info, sizeof info, "%d\n", (int)g_rt.pid);
        if (ftruncate(fd, 0) < 0 || pwrite(fd, info, (size_t)n, 0) < 0)
            rpal_log(LOG_WARN, RPAL_LOG_REGISTRY,
                     "cannot record pid in slot %d: %s", g_rt.slot, strerror(errno));
        int old = g_rt.slot_lock_fd;
        g_rt.slot_lock_fd = fd;
        close(old); /* another inode: our lock on the new file stays */
        rpal_log(LOG_WARN, RPAL_LOG_REGISTRY_REPAIRED,
                 "slot %d: its file in %s was gone: took it again", g_rt.slot, g_rt.dir);
        *repaired = true;
    }
    return 0;
}

/* Takes svc's name again if its lock file or socket file is gone (or another
 * file): under s_reg_lock, after repair_process(). */
static int repair_service(struct rpal_service *s, bool *repaired)
{
    char lock_name[RPAL_NAME_MAX + 32];
    snprintf(lock_name, sizeof lock_name, "services/%s.lock", s->name);
    int rc = is_file_at(lock_name, s->lock_fd);
    if (rc < 0)
        return rc;
    bool rebind = rc == 0;
    if (rebind) {
        int fd;
        if ((rc = relock(lock_name, &fd)) < 0)
            return rc; /* -EADDRINUSE: another live server took the name meanwhile */
        int old = s->lock_fd;
        s->lock_fd = fd;
        close(old);
        record_service(s);
    }
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if ((rc = registry_socket_path(s->name, sun.sun_path, sizeof sun.sun_path)) < 0)
        return rc;
    struct stat st;
    if (!rebind && lstat(sun.sun_path, &st) == 0 && st.st_dev == s->sock_dev &&
        st.st_ino == s->sock_ino)
        return 0;
    int fd;
    dev_t dev;
    ino_t ino;
    if ((rc = listen_at(&sun, &fd, &dev, &ino)) < 0) {
        rpal_log(LOG_ERR, RPAL_LOG_REGISTRY,
                 "service %s: cannot listen at %s again: %s", s->name, sun.sun_path,
                 strerror(-rc));
        return rc;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    pthread_mutex_lock(&s->accept_lock);
    if (epoll_ctl(s->ep_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        rc = -errno;
        pthread_mutex_unlock(&s->accept_lock);
        close(fd);
        unlink(sun.sun_path);
        return rc;
    }
    epoll_ctl(s->ep_fd, EPOLL_CTL_DEL, s->fd, NULL);
    int old = s->fd;
    s->fd = fd;
    s->sock_dev = dev;
    s->sock_ino = ino;
    pthread_mutex_unlock(&s->accept_lock);
    close(old); /* clients still in its backlog are dropped (their connect fails) */
    rpal_log(LOG_WARN, RPAL_LOG_REGISTRY_REPAIRED,
             "service %s: its entry in %s was gone: registered it again", s->name,
             g_rt.dir);
    *repaired = true;
    return 0;
}

/* Whether svc is one of ours (under s_reg_lock). */
static bool is_registered(const struct rpal_service *svc)
{
    pthread_mutex_lock(&g_rt.lock);
    const struct rpal_service *o = g_rt.services;
    while (o && o != svc)
        o = o->next;
    pthread_mutex_unlock(&g_rt.lock);
    return o != NULL;
}

RPAL_API int rpal_service_check(struct rpal_service *svc)
{
    if (!svc)
        return -EINVAL;
    if (!g_rt.started)
        return -ENOTCONN;
    bool repaired = false;
    pthread_mutex_lock(&s_reg_lock);
    int rc = is_registered(svc) ? 0 : -EINVAL;
    if (rc == 0)
        rc = repair_process(&repaired);
    if (rc == 0)
        rc = repair_service(svc, &repaired);
    pthread_mutex_unlock(&s_reg_lock);
    return rc < 0 ? rc : repaired;
}

/* Before a connect: this process's own entries (directory, slot file) are
 * where peers look for them. Cheap when they are (four stat calls). */
static int check_process(void)
{
    char slot[32];
    snprintf(slot, sizeof slot, "slots/%d", g_rt.slot);
    if (dir_intact(&g_rt) == 1 && is_file_at(slot, g_rt.slot_lock_fd) == 1)
        return 0;
    bool repaired = false;
    pthread_mutex_lock(&s_reg_lock);
    int rc = repair_process(&repaired);
    pthread_mutex_unlock(&s_reg_lock);
    return rc;
}

RPAL_API int rpal_register_service(const char *name, struct rpal_service **out, uint64_t *key)
{
    return rpal_register_service_params(name, NULL, out, key);
}

RPAL_API int rpal_register_service_params(const char *name, const struct rpal_service_params *p,
                                          struct rpal_service **out, uint64_t *key)
{
    if (!out || (p && p->size < sizeof *p))
        return -EINVAL;
    if (!g_rt.started)
        return -ENOTCONN;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int rc = registry_socket_path(name, sun.sun_path, sizeof sun.sun_path);
    if (rc < 0)
        return rc;
    struct rpal_service *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->fd = s->lock_fd = s->ep_fd = s->timer_fd = s->spare_fd = -1;
    pthread_mutex_init(&s->accept_lock, NULL);
    strcpy(s->name, name);
    if (p) {
        s->max_conns = p->max_conns;
        s->allow.uid_count = p->allow.uid_count;
        s->allow.gid_count = p->allow.gid_count;
        if ((rc = copy_ids(p->allow.uids, p->allow.uid_count, &s->allow.uids)) < 0 ||
            (rc = copy_ids(p->allow.gids, p->allow.gid_count, &s->allow.gids)) < 0) {
            service_free(s);
            return rc;
        }
    }
    pthread_mutex_lock(&s_reg_lock);
    pthread_mutex_lock(&g_rt.lock);
    for (struct rpal_service *o = g_rt.services; o; o = o->next)
        if (strcmp(o->name, name) == 0)
            rc = -EADDRINUSE;
    pthread_mutex_unlock(&g_rt.lock);
    if (rc < 0)
        goto fail;

    char lock_name[RPAL_NAME_MAX + 32];
    snprintf(lock_name, sizeof lock_name, "services/%s.lock", name);
    s->lock_fd = openat(g_rt.dirfd, lock_name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        rc = -errno;
        rpal_log(LOG_ERR, RPAL_LOG_REGISTRY,
                 "cannot open %s/%s: %s", g_rt.dir, lock_name, strerror(-rc));
        goto fail;
    }
    if (shared(&g_rt))
        fchmod(s->lock_fd, 0660);
    if ((rc = lock_file(s->lock_fd)) < 0) {
        if (rc == -EBUSY)
            rc = -EADDRINUSE;
        goto fail;
    }
    if ((rc = listen_at(&sun, &s->fd, &s->sock_dev, &s->sock_ino)) < 0)
        goto fail;
    /* What the application waits on: new clients, hellos of accepted ones,
     * and their deadlines. */
    s->ep_fd = epoll_create1(EPOLL_CLOEXEC);
    s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.fd = s->fd};
    struct epoll_event tev = {.events = EPOLLIN, .data.fd = s->timer_fd};
    if (s->ep_fd < 0 || s->timer_fd < 0 || s->spare_fd < 0 || epoll_ctl(s->ep_fd, EPOLL_CTL_ADD, s->fd, &lev) < 0 ||
        epoll_ctl(s->ep_fd, EPOLL_CTL_ADD, s->timer_fd, &tev) < 0) {
        rc = -errno;
        goto fail;
    }
    do {
        if (getrandom(&s->key, sizeof s->key, 0) != sizeof s->key) {
            rc = -EIO;
            goto fail;
        }
    } while (s->key == 0);
    record_service(s);

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
    service_free(s);
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
    /* only our own socket file: after the entry vanished and another server
     * took the name, the file there is that server's */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct stat st;
    if (registry_socket_path(svc->name, path, sizeof path) == 0 && lstat(path, &st) == 0 &&
        st.st_dev == svc->sock_dev && st.st_ino == svc->sock_ino)
        unlink(path);
    service_free(svc);
    pthread_mutex_unlock(&s_reg_lock);
    return 0;
}

RPAL_API int rpal_service_fd(const struct rpal_service *svc) { return svc ? svc->ep_fd : -EINVAL; }

/* Whether fd has something to read, or its peer hung up. */
static bool has_input(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    return poll(&p, 1, 0) > 0 && p.revents;
}

/* Arms the timer for the earliest pending deadline or the end of a pause
 * (or disarms it). */
static void arm_timer(struct rpal_service *s)
{
    int64_t first = s->paused_until_ns;
    for (uint32_t i = 0; i < s->npending; i++)
        if (!first || s->pending[i].deadline_ns < first)
            first = s->pending[i].deadline_ns;
    struct itimerspec t = {0};
    if (first) {
        t.it_value.tv_sec = first / 1000000000;
        t.it_value.tv_nsec = first % 1000000000;
    }
    timerfd_settime(s->timer_fd, first ? TFD_TIMER_ABSTIME : 0, &t, NULL);
}

/* Takes pending client i out of the set; returns it. */
static struct rpal_pending pending_take(struct rpal_service *s, uint32_t i)
{
    struct rpal_pending p = s->pending[i];
    epoll_ctl(s->ep_fd, EPOLL_CTL_DEL, p.fd, NULL);
    s->pending[i] = s->pending[--s->npending];
    arm_timer(s);
    return p;
}

/* How long the listening socket rests when a client cannot even be
 * accepted to be told why (the process is out of fds, spare included). */
#define RPAL_ACCEPT_PAUSE_MS 100

/* Stops (until) or resumes (0) watching the listening socket: while the
 * process has no fd to accept with, a waiting client would keep it readable
 * and its waiter spinning. */
static void pause_listening(struct rpal_service *s, int64_t until)
{
    struct epoll_event ev = {.events = until ? 0 : EPOLLIN, .data.fd = s->fd};
    epoll_ctl(s->ep_fd, EPOLL_CTL_MOD, s->fd, &ev);
    s->paused_until_ns = until;
    arm_timer(s);
}

/* accept4() failed with EMFILE or ENFILE (err): take the client with the
 * spare fd, tell it, give the spare back. Without a spare (another thread
 * took the fd meanwhile), stop listening for a while. Returns err. */
static int refuse_out_of_fds(struct rpal_service *s, int err, int64_t now)
{
    if (s->spare_fd >= 0) {
        close(s->spare_fd);
        int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
        int accept_errno = errno;
        if (fd >= 0) {
            struct ucred cred = {.pid = 0};
            socklen_t len = sizeof cred;
            getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
            rpal_log(LOG_WARN, RPAL_LOG_PEER_REFUSED,
                     "service %s refused pid %d: this process is out of file "
                     "descriptors (%s)", s->name, (int)cred.pid, strerror(-err));
            handshake_refuse(fd, err);
            close(fd);
        }
        s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            return err;
        /* accept4() takes the fd before it looks for a client: nobody waits */
        if (accept_errno == EAGAIN || accept_errno == EWOULDBLOCK)
            return -EAGAIN;
    }
    rpal_log(LOG_ERR, RPAL_LOG_LIMIT,
             "service %s: this process is out of file descriptors (%s); not "
             "accepting for %d ms", s->name, strerror(-err), RPAL_ACCEPT_PAUSE_MS);
    pause_listening(s, now + RPAL_ACCEPT_PAUSE_MS * 1000000ll);
    return err;
}

/*
 * One step of accepting, never waiting for a client: first a pending client
 * whose hello arrived (or who hung up, or whose time ran out), then new
 * clients from the listening socket. A new client is admitted (or refused)
 * on its credentials at once; if its hello is not there yet it waits in the
 * service's set, so that a client that stays silent costs nobody else any
 * time. Returns the first outcome, or -EAGAIN.
 */
static int accept_step(struct rpal_service *s, struct rpal_conn **conn)
{
    uint64_t ticks;
    if (read(s->timer_fd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
        return -errno;
    int64_t now = now_ns();
    if (s->paused_until_ns && now >= s->paused_until_ns)
        pause_listening(s, 0);
    for (uint32_t i = 0; i < s->npending; i++) {
        bool ready = has_input(s->pending[i].fd);
        if (!ready && s->pending[i].deadline_ns > now)
            continue;
        struct rpal_pending p = pending_take(s, i);
        if (ready)
            return handshake_server(p.fd, s, &p.cred, conn);
        rpal_log(LOG_WARN, RPAL_LOG_PEER_REFUSED,
                 "service %s: pid %d sent no hello within %d ms: dropped", s->name,
                 (int)p.cred.pid, RPAL_HELLO_TIMEOUT_MS);
        handshake_refuse(p.fd, -ETIMEDOUT);
        close(p.fd);
        return -ETIMEDOUT;
    }
    for (;;) {
        if (s->paused_until_ns)
            return -EAGAIN;
        int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE))
            return refuse_out_of_fds(s, -errno, now);
        if (fd < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
        struct ucred cred;
        int rc = handshake_admit(fd, s, &cred);
        if (rc < 0)
            return rc;
        /* its socket is open; keep the reserve for the rest (handshake_server
         * checks again when its hello arrives) */
        if ((rc = handshake_fd_room(s, cred.pid)) < 0) {
            handshake_refuse(fd, rc);
            close(fd);
            return rc;
        }
        if (has_input(fd))
            return handshake_server(fd, s, &cred, conn);
        if (s->npending == RPAL_PENDING_MAX) {
            rpal_log(LOG_WARN, RPAL_LOG_PEER_REFUSED,
                     "service %s: %d clients are in the middle of their handshake; "
                     "pid %d refused", s->name, RPAL_PENDING_MAX, (int)cred.pid);
            handshake_refuse(fd, -EBUSY);
            close(fd);
            return -EBUSY;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
        if (epoll_ctl(s->ep_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            rc = -errno;
            close(fd);
            return rc;
        }
        s->pending[s->npending++] = (struct rpal_pending){
            .fd = fd, .deadline_ns = now + RPAL_HELLO_TIMEOUT_MS * 1000000ll, .cred = cred};
        arm_timer(s);
    }
}

RPAL_API int rpal_accept(struct rpal_service *svc, struct rpal_conn **conn)
{
    if (!svc || !conn)
        return -EINVAL;
    pthread_mutex_lock(&svc->accept_lock);
    int rc = accept_step(svc, conn);
    pthread_mutex_unlock(&svc->accept_lock);
    return rc;
}

RPAL_API int rpal_request_service(const char *name, struct rpal_conn **conn)
{
    return rpal_request_service_params(name, NULL, conn);
}

RPAL_API int rpal_request_service_params(const char *name, const struct rpal_request_params *p,
                                         struct rpal_conn **conn)
{
    if (!conn || (p && (p->size < sizeof *p || p->reserved)))
        return -EINVAL;
    if (p && ((p->trust.uid_count && !p->trust.uids) || (p->trust.gid_count && !p->trust.gids)))
        return -EINVAL;
    if (!g_rt.started)
        return -ENOTCONN;
    int rc = check_process();
    if (rc < 0)
        return rc;
    return handshake_client(name, p ? &p->trust : NULL, conn);
}

/* ------------------------------------------------------------------ listing */

/* rpal_list_services reads what tools see of a registry: the names of the
 * services/NAME.lock files, each file's record ("pid slot key", written by
 * record_service) and whether its lock is held, and the sockets connected to
 * each services/NAME.sock. All of it may have been written by anyone who may
 * write the directory (or, for /proc/net/unix, by any process of the host):
 * names are checked as registry_check_name does, records are parsed strictly
 * and bounded, and a socket is counted only for the very file (device and
 * inode) of a live entry. */

/* The directory to list: dir, or the one rpal_runtime_dir() reports. */
static int list_dir_path(const char *dir, char out[RPAL_DIR_MAX])
{
    if (dir)
        return dir_path(dir, -1, out);
    if (g_rt.started)
        return dir_path(g_rt.dir, -1, out);
    struct rpal_options o;
    if (rpal_options_init(&o) < 0)
        return -EINVAL; /* as rpal_init(NULL) would fail */
    return dir_path(NULL, o.runtime_group, out);
}

RPAL_API int rpal_runtime_dir(char *buf, size_t size)
{
    if (!buf)
        return -EINVAL;
    char path[RPAL_DIR_MAX];
    int rc = list_dir_path(NULL, path);
    if (rc < 0)
        return rc;
    size_t n = strlen(path);
    if (n >= size)
        return -ERANGE;
    memcpy(buf, path, n + 1);
    return (int)n;
}

/* The 1.2 size of struct rpal_service_entry: the least a caller may pass. It
 * stays 104 when the struct grows. */
#define ENTRY_SIZE_1_2 104
_Static_assert(sizeof(struct rpal_service_entry) >= ENTRY_SIZE_1_2, "entry size");
/* More entries than this is not a registry anyone uses: -E2BIG. */
#define LIST_MAX (1u << 20)

struct list_item {
    struct rpal_service_entry e;
    dev_t sock_dev; /* the entry's socket file, when live and found */
    ino_t sock_ino;
    bool has_sock;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct list_item *)a)->e.name, ((const struct list_item *)b)->e.name);
}

/* Parses a service record, "PID SLOT KEY\n" (decimal, decimal, 16 hex
 * digits): true and the values, or false for anything else. */
static bool parse_record(const char *s, int32_t *pid, int32_t *slot, uint64_t *key)
{
    char *end;
    errno = 0;
    long p = strtol(s, &end, 10);
    if (errno || end == s || *s < '0' || *s > '9' || p <= 0 || p > INT32_MAX || *end != ' ')
        return false;
    s = end + 1;
    long sl = strtol(s, &end, 10);
    if (errno || end == s || *s < '0' || *s > '9' || sl > 65535 || *end != ' ')
        return false;
    s = end + 1;
    int digits = 0;
    uint64_t k = 0;
    for (; digits < 16; digits++, s++) {
        int v = *s >= '0' && *s <= '9'   ? *s - '0'
                : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
                                         : -1;
        if (v < 0)
            break;
        k = k << 4 | (uint64_t)v;
    }
    if (digits != 16 || (*s != '\n' && *s != 0) || (*s == '\n' && s[1] != 0))
        return false;
    *pid = (int32_t)p;
    *slot = (int32_t)sl;
    *key = k;
    return true;
}

/* This process's service whose lock file is st, or NULL. Called under
 * s_reg_lock (so the list does not change). */
static const struct rpal_service *own_service(const struct stat *st)
{
    if (!g_rt.started)
        return NULL;
    for (const struct rpal_service *s = g_rt.services; s; s = s->next) {
        struct stat o;
        if (fstat(s->lock_fd, &o) == 0 && o.st_dev == st->st_dev && o.st_ino == st->st_ino)
            return s;
    }
    return NULL;
}

/* Fills it->e from services/NAME.lock (under svcfd): its record and whether a
 * live process holds it. Under s_reg_lock. */
static void probe_entry(int svcfd, struct list_item *it)
{
    struct rpal_service_entry *e = &it->e;
    e->slot = -1;
    char rel[RPAL_NAME_MAX + 16];
    snprintf(rel, sizeof rel, "%s.lock", e->name);
    struct stat st;
    if (fstatat(svcfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
        return;
    /* A lock this process holds: opening and closing the file would drop it
     * (POSIX locks belong to the process), and F_GETLK does not report it. */
    const struct rpal_service *own = own_service(&st);
    if (own) {
        e->flags = RPAL_SERVICE_LIVE;
        e->pid = (int32_t)g_rt.pid;
        e->slot = g_rt.slot;
        e->key = own->key;
    } else {
        int fd = openat(svcfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            return;
        char buf[96];
        ssize_t n;
        struct stat now;
        if (fstat(fd, &now) == 0 && S_ISREG(now.st_mode) &&
            (n = pread(fd, buf, sizeof buf - 1, 0)) > 0) {
            buf[n] = 0;
            if (!parse_record(buf, &e->pid, &e->slot, &e->key)) {
                e->pid = 0;
                e->slot = -1;
                e->key = 0;
            }
            pid_t holder = lock_holder(fd);
            if (holder > 0 && holder == e->pid)
                e->flags = RPAL_SERVICE_LIVE;
        }
        close(fd);
    }
    if (e->flags & RPAL_SERVICE_LIVE) {
        snprintf(rel, sizeof rel, "%s.sock", e->name);
        if (fstatat(svcfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode)) {
            it->has_sock = true;
            it->sock_dev = st.st_dev;
            it->sock_ino = st.st_ino;
        }
    }
}

/* Counts, per live entry, the connected sockets of /proc/net/unix bound to
 * its socket file: a server's accepted sockets carry its listening socket's
 * path. Paths that are not absolute (bound relative to some process's working
 * directory) are not counted. Lines are "NUM: REFS PROTO FLAGS TYPE ST INODE
 * [PATH]". */
static void count_connections(struct list_item *items, size_t n)
{
    FILE *f = fopen("/proc/net/unix", "re");
    if (!f)
        return;
    char line[512], last[512] = "";
    struct list_item *last_hit = NULL;
    bool first = true;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') {
            line[--len] = 0;
        } else if (!feof(f)) { /* longer than any socket path: skip it */
            int ch;
            while ((ch = getc(f)) != EOF && ch != '\n')
                ;
            continue;
        }
        if (first) { /* the header */
            first = false;
            continue;
        }
        unsigned state;
        unsigned long inode;
        int off = -1;
        if (sscanf(line, "%*[^:]: %*x %*x %*x %*x %x %lu %n", &state, &inode, &off) != 2 ||
            off < 0 || (size_t)off > len || state != 3 /* SS_CONNECTED */)
            continue;
        const char *path = line + off;
        const char *base = strrchr(path, '/');
        if (path[0] != '/' || !base)
            continue;
        struct list_item *hit = NULL;
        if (strcmp(path, last) == 0) {
            hit = last_hit;
        } else {
            /* the entry of that file name, if live, and then the file itself */
            size_t bl = strlen(base + 1);
            for (size_t i = 0; i < n && !hit; i++) {
                size_t nl = strlen(items[i].e.name);
                if (items[i].has_sock && bl == nl + 5 &&
                    memcmp(base + 1, items[i].e.name, nl) == 0 && strcmp(base + 1 + nl, ".sock") == 0)
                    hit = &items[i];
            }
            struct stat st;
            if (hit && (lstat(path, &st) < 0 || st.st_dev != hit->sock_dev ||
                        st.st_ino != hit->sock_ino))
                hit = NULL;
            snprintf(last, sizeof last, "%s", path);
            last_hit = hit;
        }
        if (hit && hit->e.connections < UINT32_MAX)
            hit->e.connections++;
    }
    fclose(f);
}

RPAL_API int rpal_list_services(const char *runtime_dir, struct rpal_service_entry *entries,
                                size_t entry_size, size_t max_entries)
{
    if ((max_entries && !entries) || entry_size < ENTRY_SIZE_1_2 ||
        max_entries > SIZE_MAX / entry_size)
        return -EINVAL;
    char path[RPAL_DIR_MAX];
    int rc = list_dir_path(runtime_dir, path);
    if (rc < 0)
        return rc;
    int top = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (top < 0)
        return errno == ELOOP ? -ENOTDIR : -errno;
    int svcfd = openat(top, "services", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    rc = svcfd < 0 ? (errno == ELOOP ? -ENOTDIR : -errno) : 0;
    close(top);
    if (rc < 0)
        return rc;
    DIR *d = fdopendir(svcfd);
    if (!d) {
        rc = -errno;
        close(svcfd);
        return rc;
    }
    svcfd = dirfd(d);

    struct list_item *items = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".lock") != 0 || len - 5 > RPAL_NAME_MAX)
            continue;
        char name[RPAL_NAME_MAX + 1];
        memcpy(name, de->d_name, len - 5);
        name[len - 5] = 0;
        if (registry_check_name(name) < 0)
            continue;
        if (n == LIST_MAX) {
            rc = -E2BIG;
            break;
        }
        if (n == cap) {
            size_t c = cap ? cap * 2 : 16;
            struct list_item *g = realloc(items, c * sizeof *g);
            if (!g) {
                rc = -ENOMEM;
                break;
            }
            items = g;
            cap = c;
        }
        memset(&items[n], 0, sizeof items[n]);
        memcpy(items[n].e.name, name, len - 5 + 1);
        n++;
        errno = 0;
    }
    if (rc == 0 && errno)
        rc = -errno;
    if (rc == 0 && n) {
        qsort(items, n, sizeof *items, by_name);
        size_t fill = n < max_entries ? n : max_entries;
        pthread_mutex_lock(&s_reg_lock);
        for (size_t i = 0; i < fill; i++)
            probe_entry(svcfd, &items[i]);
        pthread_mutex_unlock(&s_reg_lock);
        count_connections(items, fill);
        size_t copy = entry_size < sizeof(struct rpal_service_entry) ? entry_size
                                                                     : sizeof(struct rpal_service_entry);
        for (size_t i = 0; i < fill; i++) {
            char *to = (char *)entries + i * entry_size;
            items[i].e.size = (uint32_t)copy;
            memcpy(to, &items[i].e, copy);
            memset(to + copy, 0, entry_size - copy);
        }
    }
    closedir(d);
    free(items);
    return rc < 0 ? rc : (int)n;
}
