/*
 * Governor's JNI library: the few libc calls on the way from main() to READY=1 (issue 13, W4).
 *
 * The first FFM downcall of a JVM costs ~85 ms of class spinning and JIT work; loading this library
 * and calling it costs ~3 ms. It covers what a daemon does before it is ready: the sd_notify send
 * (what dev.governor.runtime.systemd.UnixDatagram does through FFM: a close-on-exec unix datagram
 * socket, connect, one sendmsg with the descriptors as SCM_RIGHTS, close), the descriptor calls of
 * socket activation and of a listener kept for the fd store (fcntl, an int getsockopt, close), and
 * unsetenv. Everything else stays in the FFM binding (dev.governor.runtime.internal.os.Libc), which
 * is also the fallback for these when the library is absent.
 *
 * Failures come back as errno in an encoded result, never as a Java exception: see LibcJni.java.
 */
#include <jni.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SCM_MAX_FD 253

/* send0: -(stage << 16 | errno) with stage 1 socket, 2 connect, 3 sendmsg, 4 a bad argument, 5 no memory */
static jint send_failed(int stage, int err) {
    return -((stage << 16) | (err & 0xffff));
}

JNIEXPORT jint JNICALL Java_dev_governor_runtime_internal_os_LibcJni_send0(
        JNIEnv *env, jclass cls, jbyteArray address, jbyteArray payload, jintArray fds, jint flags) {
    (void) cls;
    struct sockaddr_un sa;
    jsize alen = (*env)->GetArrayLength(env, address);
    jsize plen = (*env)->GetArrayLength(env, payload);
    jsize nfds = (*env)->GetArrayLength(env, fds);
    if (alen < 3 || alen > (jsize) sizeof(sa) || nfds < 0 || nfds > SCM_MAX_FD) {
        return send_failed(4, EINVAL);
    }
    memset(&sa, 0, sizeof(sa));
    (*env)->GetByteArrayRegion(env, address, 0, alen, (jbyte *) &sa);

    char *data = malloc(plen > 0 ? (size_t) plen : 1);
    if (data == NULL) {
        return send_failed(5, ENOMEM);
    }
    (*env)->GetByteArrayRegion(env, payload, 0, plen, (jbyte *) data);

    union {
        struct cmsghdr align;
        char space[CMSG_SPACE(sizeof(int) * SCM_MAX_FD)];
    } control;
    struct iovec iov = {.iov_base = data, .iov_len = (size_t) plen};
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (nfds > 0) {
        memset(&control, 0, sizeof(control));
        msg.msg_control = control.space;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t) nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t) nfds);
        (*env)->GetIntArrayRegion(env, fds, 0, nfds, (jint *) CMSG_DATA(c));
    }

    jint result;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        result = send_failed(1, errno);
    } else if (connect(fd, (struct sockaddr *) &sa, (socklen_t) alen) < 0) {
        result = send_failed(2, errno);
    } else {
        ssize_t sent = sendmsg(fd, &msg, flags);
        result = sent < 0 ? send_failed(3, errno) : (jint) sent;
    }
    if (fd >= 0) {
        close(fd);
    }
    free(data);
    return result;
}

/* The int calls: the result (an int) on success, else FAILED - errno (see LibcJni.FAILED). */
#define FAILED (-((jlong) 1 << 40))
#define FCNTL 1
#define GETSOCKOPT_INT 2
#define CLOSE 3

JNIEXPORT jlong JNICALL Java_dev_governor_runtime_internal_os_LibcJni_int0(
        JNIEnv *env, jclass cls, jint fn, jint a, jint b, jint c) {
    (void) env;
    (void) cls;
    int r;
    switch (fn) {
        case FCNTL:
            r = fcntl(a, b, c);
            break;
        case GETSOCKOPT_INT: {
            int value = 0;
            socklen_t length = sizeof(value);
            r = getsockopt(a, SOL_SOCKET, b, &value, &length);
            if (r == 0) {
                return (jlong) value;
            }
            break;
        }
        case CLOSE:
            r = close(a);
            break;
        default:
            return FAILED - EINVAL;
    }
    return r < 0 ? FAILED - errno : (jlong) r;
}

/* unsetenv(name): 0, or errno (the name comes NUL-terminated) */
JNIEXPORT jint JNICALL Java_dev_governor_runtime_internal_os_LibcJni_unsetenv0(JNIEnv *env, jclass cls, jbyteArray name) {
    (void) cls;
    jsize n = (*env)->GetArrayLength(env, name);
    if (n < 1) {
        return EINVAL;
    }
    char *s = malloc((size_t) n);
    if (s == NULL) {
        return ENOMEM;
    }
    (*env)->GetByteArrayRegion(env, name, 0, n, (jbyte *) s);
    int r = s[n - 1] == '\0' ? unsetenv(s) : (errno = EINVAL, -1);
    int err = r < 0 ? errno : 0;
    free(s);
    return err;
}
