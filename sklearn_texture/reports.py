"""Write experiment results as CSV, markdown (ours beside the paper's) and figures.

Output folders are transactional: a run's files appear whole or not at all.

* Every file of a run is written into a staging folder beside the output folder
  (``.<name>.staging-*``), which becomes the output folder by one ``rename``.
* An output folder of an earlier run of the same command is replaced as a whole
  (renamed aside, the new one renamed in, the old one deleted), never merged with the
  new files. A folder is that only if its ``settings.json`` names the command (every
  run writes one) and every other entry in it is a file that command writes
  (:data:`RUN_FILES`); any other folder that is not empty is refused, never deleted --
  a map folder is not replaced by ``map-walk``, a folder of the user's files by nobody.
* A lock file beside the folder (``.<name>.lock``, ``fcntl.flock``) admits one run per
  folder: a second run into the same folder is refused with :class:`OutputFolderBusy`.
* On any exception (and on SIGTERM/SIGINT, which the command line turns into
  exceptions) the staging folder is removed and the earlier output is left as it was;
  leftovers of a run killed outright (SIGKILL) are cleaned up by the next run into
  that folder.
"""

import contextlib
import csv
import fnmatch
import json
import math
import os
import secrets
import shutil
import signal
import threading
from pathlib import Path

from sklearn_texture import plotting
from sklearn_texture.datasets import TEXTURE_PHOTOGRAPHS
from sklearn_texture.experiments import PAPER_BETA_ANGLE, PAPER_TABLE_I

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: an exclusive lock file instead
    fcntl = None

__all__ = ["RUN_FILES", "OutputFolderBusy", "check_output_folder", "locked_output",
           "markdown_table", "staged_output", "write_angle_report", "write_csv",
           "write_manifold_report", "write_settings"]

# What Fig. 6 of the paper shows (the paper gives curves, not numbers).
_PAPER_FIG6 = {
    "cnn": "small for all A ≲ 4.5",
    "ps": "small only for 2 ≲ A ≲ 3.5; fails at A = 1 and A ≳ 4",
}

#: The files each command writes, by the name its ``settings.json`` records under
#: ``"command"``: ``(names, patterns)``, patterns in :mod:`fnmatch` syntax for the files
#: named after a run's own images or grid points. A folder is an earlier run of a command
#: (which a new run of that command may replace) only if its ``settings.json`` names the
#: command and every other entry is a file of this list, so the patterns are consulted
#: only inside such a folder; ``reproduce synthesis`` lists its photographs' files by name
#: (from :data:`~sklearn_texture.datasets.TEXTURE_PHOTOGRAPHS`), not by a wildcard.
RUN_FILES = {
    "embed": (("settings.json", "coordinates.csv", "vectors.npy", "distances.npy",
               "model.joblib", "thumbnails.json", "skipped.csv", "stress.csv", "r2.csv",
               "map.png", "report.html"), ()),
    "reproduce angle": (("settings.json", "angle_task.csv", "angle_task.md",
                         "angle_task_trials.csv", "fig5_angle_panels.png",
                         "fig6_angle_rmse.png", "fig7_stress.png"), ()),
    "reproduce manifold": (("settings.json", "manifold_stress.csv", "manifold_r2.csv",
                            "manifold_task.md", "table1.csv", "fig8_stress_vs_dim.png"),
                           ("fig9_11_embedding_d[0-9]*.png",)),
    "reproduce synthesis": (("settings.json", "synthesis.csv", "synthesis.md", "panel.png",
                             "loss_curve.png", "losses.csv",
                             *(f"{name}_{kind}.png" for name in TEXTURE_PHOTOGRAPHS
                               for kind in ("original", "synthesis"))), ()),
    # the syntheses are named after the user's images (losses.csv lists them)
    "synthesize": (("settings.json", "panel.png", "loss_curve.png", "losses.csv",
                    "skipped.csv"), ("*_synthesis.png",)),
    "map-walk": (("settings.json", "grid.png", "points.csv"), ("walk_r[0-9]*_c[0-9]*.png",)),
}

_held = threading.local()  # output folders whose lock this thread holds


class OutputFolderBusy(OSError):
    """Another run holds the lock of the output folder."""


def _absolute(out_dir):
    text = os.fspath(out_dir)
    if not str(text).strip():
        raise ValueError("the output folder must be named; got an empty path ''.")
    path = Path(os.path.abspath(text))
    with contextlib.suppress(OSError):
        here = Path.cwd()
        if path == here or path in here.parents:
            raise ValueError(f"output folder {text} is the current folder or contains it; "
                             "name a new folder for the results.")
    return path


def _recorded_command(path):
    """The ``"command"`` of the ``settings.json`` in ``path`` (a str), or the reason there
    is none (``(why,)``)."""
    settings_file = path / "settings.json"
    if not settings_file.is_file() or settings_file.is_symlink():
        return ("no settings.json",)
    try:
        settings = json.loads(settings_file.read_text())
    except (OSError, ValueError):
        return ("a settings.json that is not readable JSON",)
    command = settings.get("command") if isinstance(settings, dict) else None
    if not isinstance(command, str):
        return ("a settings.json that names no command",)
    return command


def _foreign_entries(path, command):
    """The entries of ``path`` that a run of ``command`` does not write."""
    names, patterns = RUN_FILES.get(command, (("settings.json",), ()))
    return sorted(entry.name for entry in path.iterdir() if not (
        entry.is_file() and not entry.is_symlink() and (
            entry.name in names
            or any(fnmatch.fnmatchcase(entry.name, p) for p in patterns))))


_KEEP = ("choose a new or empty folder (a run replaces only a folder holding an earlier "
         "run of the same command and nothing else, so that no other file is ever "
         "deleted)")


def _refusal(path, out_dir, command):
    """Why an existing, non-empty folder may not be replaced by a run of ``command``;
    None if it may."""
    if command is None:
        return f"output folder {out_dir} is not empty; choose a new or empty folder."
    recorded = _recorded_command(path)
    if isinstance(recorded, tuple):
        why = recorded[0]
        if why == "no settings.json":
            return (f"output folder {out_dir} holds files that sklearn-texture did not write "
                    f"(it has no settings.json of an earlier run); {_KEEP}.")
        return (f"output folder {out_dir} holds {why} (an earlier version's run, or not a "
                f"run at all), so it is not known to be an earlier `{command}` run; delete "
                f"it yourself if you no longer need it, or {_KEEP}.")
    if recorded != command:
        return (f"output folder {out_dir} holds an earlier `{recorded}` run, which "
                f"`{command}` does not replace; {_KEEP}.")
    foreign = _foreign_entries(path, command)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more"
                                           if len(foreign) > 3 else "")
        return (f"output folder {out_dir} holds files that sklearn-texture did not write "
                f"({shown}) beside an earlier `{command}` run; {_KEEP}.")
    return None


def check_output_folder(out_dir, command=None):
    """Return ``out_dir`` as an absolute path if a run of ``command`` may write there.

    It may if it does not exist yet, or is an empty folder, or holds an earlier run of
    the same command and nothing else: its ``settings.json`` names ``command`` and every
    other entry is a file such a run writes (:data:`RUN_FILES`). The new run replaces
    that folder as a whole. Any other folder is refused, so that no user's file, and no
    other command's results (say the map ``map-walk`` reads), are ever deleted.

    Parameters
    ----------
    out_dir : str or path-like
        The output folder.
    command : str or None, default=None
        The command of the run, as its ``settings.json`` records it (``"embed"``,
        ``"reproduce angle"``, ``"map-walk"``, ...); ``None`` accepts only a new or
        empty folder.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    ValueError
        If ``out_dir`` is empty, is the current folder or one of its parents, is not a
        folder (or is a symbolic link), or is a folder that is neither empty nor an
        earlier run of ``command`` alone (the message says which and why).
    """
    path = _absolute(out_dir)
    if path.is_symlink():
        raise ValueError(f"output folder {out_dir} is a symbolic link; name the folder "
                         "it points to.")
    if path.exists() and not path.is_dir():
        raise ValueError(f"output folder {out_dir} exists and is not a folder.")
    if path.is_dir() and any(path.iterdir()):
        refusal = _refusal(path, out_dir, command)
        if refusal is not None:
            raise ValueError(refusal)
    return path


def _lock_path(path):
    return path.parent / f".{path.name}.lock"


def _acquire(lock_path, out_dir):
    """Open and lock ``lock_path``; the lock file may be unlinked by its last holder, so
    retry until the locked file is the one at ``lock_path``."""
    busy = OutputFolderBusy(
        f"output folder {out_dir} is in use by another sklearn-texture run (lock file "
        f"{lock_path}); wait for it to finish or choose another folder."
    )
    for _ in range(100):
        if fcntl is None:  # pragma: no cover - Windows
            try:
                return os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                raise busy from None
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise busy from None
        try:
            if os.stat(lock_path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # we locked a file that its holder had just unlinked: try again
    raise busy


def _make_parents(folder):
    """Create ``folder`` and missing parents; return the ones created, outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    created = []
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        created.append(folder)
    return created


def _leftovers(path, kind):
    prefix = f".{path.name}.{kind}-"
    found = [entry for entry in path.parent.iterdir() if entry.name.startswith(prefix)]
    return sorted(found, key=lambda entry: entry.lstat().st_mtime)


def _recover(path):
    """Clean up after a run of this folder that was killed outright (we hold the lock)."""
    for staging in _leftovers(path, "staging"):
        shutil.rmtree(staging, ignore_errors=True)
    old = _leftovers(path, "old")
    if old and not path.exists():
        # killed between moving the earlier results aside and moving the new ones in
        os.rename(old.pop(), path)
    for folder in old:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def locked_output(out_dir, command=None):
    """Hold the lock of the output folder ``out_dir`` for the duration of the block.

    The command line holds it for a whole run, so that a second run into the same
    folder is refused before it computes anything; :func:`staged_output` takes it
    (unless this thread already holds it) around the final write.

    Parameters
    ----------
    out_dir : str or path-like
        The output folder (checked with :func:`check_output_folder`).
    command : str or None, default=None
        The run's command (see :func:`check_output_folder`).

    Yields
    ------
    path : pathlib.Path
        The absolute output folder.

    Raises
    ------
    OutputFolderBusy
        If another run holds the lock.
    """
    path = check_output_folder(out_dir, command)
    held = _held.__dict__.setdefault("paths", set())
    if path in held:
        yield path
        return
    created = _make_parents(path.parent)
    lock_path = _lock_path(path)
    try:
        fd = _acquire(lock_path, out_dir)
    except BaseException:
        _remove_empty(created)
        raise
    held.add(path)
    try:
        _recover(path)
        yield path
    finally:
        held.discard(path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock_path)  # while still locked: see _acquire
        os.close(fd)
        _remove_empty(created)


def _remove_empty(created):
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            break


@contextlib.contextmanager
def _signals_deferred():
    """Hold back SIGINT/SIGTERM while the output folder is swapped (two renames)."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _fsync_tree(folder):
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    with contextlib.suppress(OSError):  # not every platform can fsync a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_staged_command(staging, command):
    """The staged run must name its command in settings.json: otherwise no later run
    could replace the folder (a bug of the caller, not of the user's input)."""
    if command is None:
        return
    recorded = _recorded_command(staging)
    if recorded != command:
        found = recorded[0] if isinstance(recorded, tuple) else f"command {recorded!r}"
        raise RuntimeError(f"the run's settings.json must name its command {command!r}; "
                           f"found {found}.")


def _commit(staging, path, command):
    """Make ``staging`` the folder ``path``, replacing an earlier run's folder whole."""
    _check_staged_command(staging, command)
    _fsync_tree(staging)
    with _signals_deferred():
        aside = None
        if os.path.lexists(path):
            # still ours (we hold the lock, but users may not)
            check_output_folder(path, command)
            aside = path.parent / f".{path.name}.old-{secrets.token_hex(4)}"
            os.rename(path, aside)
        try:
            os.rename(staging, path)
        except BaseException:
            if aside is not None:
                os.rename(aside, path)
            raise
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def staged_output(out_dir, command=None):
    """Yield an empty staging folder; on success it becomes ``out_dir`` in one rename.

    An earlier run's ``out_dir`` of the same ``command`` is replaced as a whole (see
    :func:`check_output_folder`). On an exception the staging folder is removed and
    ``out_dir`` is left as it was.

    Parameters
    ----------
    out_dir : str or path-like
        The output folder (see :func:`check_output_folder`).
    command : str or None, default=None
        The run's command. The run must write a ``settings.json`` naming it into the
        staging folder (:func:`write_settings`), so that a later run of the command can
        replace the folder; ``None`` writes only into a new or empty folder.

    Yields
    ------
    staging : pathlib.Path
        Where to write the run's files.

    Raises
    ------
    RuntimeError
        If ``command`` is given and the staged ``settings.json`` does not name it
        (nothing is written to ``out_dir`` then).
    """
    with locked_output(out_dir, command) as path:
        staging = path.parent / f".{path.name}.staging-{secrets.token_hex(4)}"
        staging.mkdir()
        try:
            yield staging
            _commit(staging, path, command)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def write_settings(settings, path):
    """Write a run's settings as JSON, keys in the order given.

    Parameters
    ----------
    settings : dict
        The settings (values that JSON cannot hold are written as strings).
    path : str or path-like
        The file to write.
    """
    Path(path).write_text(json.dumps(settings, indent=2, default=str) + "\n")


def _run_settings(settings, command):
    """The run's command and its ``settings.json``: every run's names its command (the
    dict's own ``"command"`` if it has one), so that a later run may replace the folder."""
    if not isinstance(settings, dict):
        return command, {"command": command, "settings": str(settings)}
    if "command" in settings:
        return str(settings["command"]), settings
    return command, {"command": command, **settings}


def _settings_text(settings):
    if isinstance(settings, dict):
        return ", ".join(f"{key}={value}" for key, value in settings.items())
    return str(settings)


def write_csv(rows, path):
    """Write a list of dicts as CSV (the first row's keys are the columns).

    Parameters
    ----------
    rows : list of dict
        The rows; at least one.
    path : str or path-like
        The CSV file to write.
    """
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _cell(value, digits):
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.{digits}g}"
    return str(value)


def markdown_table(rows, columns=None, *, digits=3):
    """Render a list of dicts as a GitHub markdown table.

    Parameters
    ----------
    rows : list of dict
        The rows; at least one.
    columns : list of str or None, default=None
        The columns, in order; ``None`` takes the first row's keys.
    digits : int, default=3
        Significant digits of float cells.

    Returns
    -------
    table : str
        The table, one line per row after the header lines.
    """
    columns = columns or list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row[c], digits) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def write_angle_report(result, out_dir, *, settings):
    """Fig. 5–7 and ``angle_task.csv``/``angle_task.md`` for :func:`run_angle_task`.

    Parameters
    ----------
    result : AngleTaskResult
        What :func:`~sklearn_texture.experiments.run_angle_task` returned.
    out_dir : str or path-like
        The output folder, written as a whole (see :func:`staged_output`).
    settings : dict or str
        The run's settings, shown in ``angle_task.md`` and written to ``settings.json``
        (a str under the key ``"settings"``), with the command that a later run into
        ``out_dir`` must be to replace it: the dict's ``"command"``, else
        ``"reproduce angle"`` (see :func:`check_output_folder`).

    Returns
    -------
    summary : list of dict
        One row per (method, N, A), as in ``angle_task.csv``.
    """
    summary = result.summary()
    for row in summary:
        row["paper (Fig. 6)"] = _PAPER_FIG6[row["method"]]
    command, recorded = _run_settings(settings, "reproduce angle")
    with staged_output(out_dir, command) as staging:
        write_settings(recorded, staging / "settings.json")
        write_csv(result.rows, staging / "angle_task_trials.csv")
        write_csv(summary, staging / "angle_task.csv")
        plotting.plot_angle_scores(summary, staging / "fig6_angle_rmse.png",
                                   score="angle_rmse", ylabel="angle RMSE (Eq. 10, rad)")
        plotting.plot_angle_scores(summary, staging / "fig7_stress.png", score="stress",
                                   ylabel="stress σ (Eq. 8)")
        if result.panels:
            plotting.plot_angle_panels(result, staging / "fig5_angle_panels.png")
        text = [
            "# Angle reconstruction task (Sec. IV B)", "",
            f"Settings: {_settings_text(settings)}", "",
            "Mean ± std over trials of the angle RMSE (Eq. 10, radians) and the Kruskal "
            "stress (Eq. 8) of the D* = 2 MDS embedding.", "",
            markdown_table(summary, ["method", "N", "A", "trials", "angle_rmse",
                                     "angle_rmse_std", "stress", "stress_std",
                                     "paper (Fig. 6)"]),
            "", "Figures: fig5_angle_panels.png, fig6_angle_rmse.png, fig7_stress.png.", "",
        ]
        (staging / "angle_task.md").write_text("\n".join(text))
    return summary


def write_manifold_report(result, out_dir, *, settings):
    """Fig. 8–11, Table I and the β angle for :func:`run_manifold_task`.

    Parameters
    ----------
    result : ManifoldTaskResult
        What :func:`~sklearn_texture.experiments.run_manifold_task` returned.
    out_dir : str or path-like
        The output folder, written as a whole (see :func:`staged_output`).
    settings : dict or str
        The run's settings, shown in ``manifold_task.md`` and written to ``settings.json``
        (a str under the key ``"settings"``), with the command that a later run into
        ``out_dir`` must be to replace it: the dict's ``"command"``, else
        ``"reproduce manifold"`` (see :func:`check_output_folder`).

    Returns
    -------
    table_i : list of dict
        Our R² beside the paper's for each D* of Table I that was run.
    """
    paper = dict(zip(PAPER_TABLE_I["D*"], zip(PAPER_TABLE_I["k"], PAPER_TABLE_I["A"],
                                              strict=True), strict=True))
    table_i = [
        {"D*": row["D*"], "R2_k": row["R2_k"], "paper R2_k": paper[row["D*"]][0],
         "R2_A": row["R2_A"], "paper R2_A": paper[row["D*"]][1]}
        for row in result.r2_rows if row["D*"] in paper
    ]
    stress = {}
    for row in result.stress_rows:
        stress.setdefault(row["D*"], {"D*": row["D*"]})[f"stress {row['method']}"] = row["stress"]
    stress_table = [stress[d] for d in sorted(stress)]
    command, recorded = _run_settings(settings, "reproduce manifold")
    with staged_output(out_dir, command) as staging:
        write_settings(recorded, staging / "settings.json")
        write_csv(result.stress_rows, staging / "manifold_stress.csv")
        write_csv(result.r2_rows, staging / "manifold_r2.csv")
        if table_i:
            write_csv(table_i, staging / "table1.csv")
        plotting.plot_stress_vs_dimension(result.stress_rows, staging / "fig8_stress_vs_dim.png")
        for dim, embedding in sorted(result.embeddings.items()):
            plotting.plot_embedding_3d(embedding, result.params,
                                       staging / f"fig9_11_embedding_d{dim}.png",
                                       title=f"CNN, D* = {dim}")
        text = [
            "# Three-dimensional manifold task (Sec. IV C)", "",
            f"Settings: {_settings_text(settings)}", "",
            "## Stress against D* (Fig. 8)", "",
            markdown_table(stress_table), "",
            "Paper: CNN stress decays roughly exponentially up to D* ≈ 6 and flattens; "
            "power-spectrum stress decays much more slowly.", "",
            "## Table I: R² of linear models for k and A (Eq. 11–13), CNN embedding", "",
            markdown_table(table_i) if table_i else "(no D* of Table I was run)", "",
            "## Angle between the regression vectors of A and k (Eq. 14)", "",
            f"ours: {result.beta_angle:.1f}°, paper: {PAPER_BETA_ANGLE}° (at D* = 6)", "",
        ]
        (staging / "manifold_task.md").write_text("\n".join(text))
    return table_i
