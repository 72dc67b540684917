/**
 * Whether a process with this pid runs on this host. Both the embedded database's lock file and `show`'s account of
 * an expired lease judge a recorded pid by it; a process owned by another user (EPERM) still exists.
 */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
