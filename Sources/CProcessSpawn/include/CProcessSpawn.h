#pragma once
#include <sys/types.h>

/// Starts `path` with `argv`/`envp` in a new process group whose id is the child's pid, with stdin
/// from /dev/null and stdout/stderr on the given descriptors, every other descriptor closed and every
/// signal at its default disposition. Returns 0 and sets `*pid`, or an errno value (ENOENT, EACCES, …).
int mlops_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                int stdout_fd, int stderr_fd, pid_t *pid);

/// A pollable descriptor that becomes readable when `pid` exits (Linux 5.3+); -1 with errno on failure.
int mlops_pidfd_open(pid_t pid);

/// A non-blocking, close-on-exec pipe: fds[0] reads, fds[1] writes.
int mlops_pipe(int fds[2]);

/// The `pid`'s wait status, waiting if `block` is non-zero; 0 when it has not exited yet, -1 on error.
pid_t mlops_waitpid(pid_t pid, int *status, int block);

int mlops_wifexited(int status);
int mlops_wexitstatus(int status);
int mlops_wifsignaled(int status);
int mlops_wtermsig(int status);
