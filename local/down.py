"""``make local-down``: destroy the local stack and stop everything ``make local`` started.

Stops a still-serving API server, runs ``terraform destroy`` on the emulator (skipped with
``--force``, or when no emulator runs: its state lived in memory), stops the emulator and
removes ``.local/`` and Terraform's working files. No process, port or file is left.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time

from local import deploy, serving
from local.paths import LocalPaths, local_paths
from local.progress import Progress, StepFailed
from workspace import emulator, processes
from workspace.paths import shown


def stop_api_server(paths: LocalPaths) -> str:
    # Only a process that still runs local.up (not a recycled pid) is ours to stop.
    found = serving.serving_pid(paths)
    if found is not None and not processes.stop_process(found[0]):
        raise StepFailed(f"the API server (pid {found[0]}) did not stop", f"kill it: kill -9 {found[0]}")
    paths.api_pid.unlink(missing_ok=True)
    return f"stopped pid {found[0]} on port {found[1]}" if found else "none running"


def destroy(paths: LocalPaths, running: emulator.RunningEmulator) -> str:
    stack = deploy.stack_file(paths)
    notes: list[str] = []
    # The synthesized stack must point at this emulator (it may have been re-synthesized since).
    if not stack.is_file() or running.endpoint not in stack.read_text():
        deploy.synthesize(running.endpoint, paths)
        notes.append("re-synthesized")
    if not (paths.stack_dir / ".terraform").is_dir() or notes:
        deploy.terraform(paths, "init")
    notes.append(deploy.terraform(paths, "destroy"))
    return "; ".join(notes)


def remove_files(paths: LocalPaths) -> list[str]:
    removed: list[str] = []
    # `plan` is what `npx cdktf diff` leaves: a plan against state that no longer exists.
    stack = paths.stack_dir
    for path in (stack / ".terraform", stack / ".terraform.lock.hcl", stack / "plan", paths.root):
        if path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
            removed.append(shown(path))
    return removed


def down(paths: LocalPaths, force: bool) -> int:
    progress = Progress(4)
    started = time.monotonic()
    try:
        with progress.step("stopping the API server") as notes:
            notes.append(stop_api_server(paths))
        running = emulator.find(paths)
        with progress.step("terraform destroy") as notes:
            if force:
                notes.append("skipped (--force)")
            elif running is None:
                notes.append("skipped: no emulator runs, so nothing is deployed")
            elif not emulator.answers(running.port):
                raise StepFailed(
                    f"the emulator (pid {running.pid}) does not answer on {running.endpoint}",
                    "stop everything without destroying: python -m local.down --force",
                )
            else:
                notes.append(destroy(paths, running))
        with progress.step("stopping the emulator") as notes:
            try:
                stopped = emulator.stop(paths)
            except emulator.EmulatorError as exc:
                raise StepFailed.from_report(str(exc)) from None
            notes.append(f"stopped pid {stopped.pid}" if stopped else "none running")
            if stopped and not processes.wait_port_free(stopped.port):
                raise StepFailed(
                    f"port {stopped.port} is still in use", f"find the holder: ss -ltnp 'sport = :{stopped.port}'"
                )
        with progress.step("removing local files") as notes:
            removed = remove_files(paths)
            notes.append(", ".join(removed) if removed else "nothing to remove")
    except (StepFailed, KeyboardInterrupt) as exc:
        return progress.failed(exc, "; run make local-down again to finish.")
    print(f"local platform removed in {time.monotonic() - started:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.down", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--force",
        action="store_true",
        help="skip terraform destroy: just stop the processes and remove the files",
    )
    args = parser.parse_args(argv)
    return down(local_paths(), args.force)


if __name__ == "__main__":
    sys.exit(main())
