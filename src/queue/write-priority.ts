/**
 * Acknowledgements go first. The inbox writer thread raises this flag while deliveries wait for
 * their commit; the processing thread does not start a batch while it is raised. Without it, the
 * processing thread re-takes SQLite's write lock the moment it frees it and the writer, asleep in
 * SQLite's busy handler, starves.
 */
export class WritePriority {
  readonly flag: Int32Array;

  constructor(shared: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.flag = new Int32Array(shared);
  }

  get buffer(): SharedArrayBuffer {
    return this.flag.buffer as SharedArrayBuffer;
  }

  raise(): void {
    Atomics.store(this.flag, 0, 1);
  }

  lower(): void {
    Atomics.store(this.flag, 0, 0);
    Atomics.notify(this.flag, 0);
  }

  /** Blocks (a worker thread only) while acknowledgements wait, up to `maxWaitMs`. */
  yield(maxWaitMs = 100): void {
    const deadline = Date.now() + maxWaitMs;
    while (Atomics.load(this.flag, 0) === 1) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      Atomics.wait(this.flag, 0, 1, left);
    }
  }
}
