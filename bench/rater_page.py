"""Benchmark: from Enter to the next clip on the rater page, in a real browser (issue 12).

Builds a demo-like study in a fresh data folder (SQLite and the demo's gunicorn settings,
1 worker and 8 threads): 10-second synthetic clips from modelzoo.synthetic imported through
the normal importers, proposals from a CSV file (each clip's own class with the heads that
would propose it, plus one other class) instead of a trained model, a study with a decoy
per clip and the model's evidence shown. Then Debian's chromium, driven by Playwright,
rates `--clips` clips back to back in each of three ways, one rater each:

- full page, strip on request: the page before issue 12: each submit loads the next page,
  and the spectrogram is analysed on its first request (`?prefetch=0`, cache empty);
- full page, precomputed: the same pages after the study's spectrograms were precomputed
  (the `annotator.spectrograms_prepare` task's service, run here in-process);
- prefetch: the page as it is: the clip held ahead preloaded and switched to in place.

Per clip it takes the time from Enter (the page's clock read just before the key is sent)
to the next clip's video playable (readyState >= 3) and to its spectrogram strip drawn, from
timestamps an init script records the moment each happens (a MutationObserver and media
events, so no polling interval is added). The first clip of each run is not timed.

    python bench/rater_page.py [--clips 30]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "bench-rater-page"
TARGET_P95_MS = 100.0

# Records when the clip on show (#rater's data-study-clip) has its video playable and its
# strip drawn, by the wall clock (Date.now(): one clock for every page; performance.timeOrigin
# of two documents can differ from it by tens of milliseconds).
OBSERVER = """
(() => {
  const state = (window.__bench = { clip: null, video: 0, strip: 0 });
  const now = () => Date.now();
  function check() {
    const root = document.getElementById("rater");
    const clip = root && root.dataset.studyClip;
    if (!clip) return;
    if (clip !== state.clip) Object.assign(state, { clip: clip, video: 0, strip: 0 });
    const video = document.getElementById("clip-video");
    if (!state.video && video && video.readyState >= 3) state.video = now();
    const strip = document.getElementById("strip");
    if (!state.strip && strip && strip.dataset.ready === "true") state.strip = now();
  }
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["data-ready", "data-study-clip"],
  });
  for (const type of ["loadeddata", "canplay", "canplaythrough", "playing"]) {
    document.addEventListener(type, check, true);
  }
})();
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=30, help="clips timed per run")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rater-page-"))
    os.environ.pop("DATABASE_URL", None)  # the demo's embedded SQLite
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "AVLABEL_DATA_DIR": str(work / "data"),
            "CELERY_BROKER_URL": "memory://",
            "DJANGO_DEBUG": "off",
            # Playwright's sync API runs an event loop in this thread; the ORM calls are fine.
            "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
        }
    )
    load_before = os.getloadavg()
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        study, raters = build_study(work, clips=args.clips + 2)
        port = free_port()
        server = serve(port, work)
        base = f"http://127.0.0.1:{port}"
        rows = measure_all(base, study, raters, clips=args.clips)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)
    print_table(rows, clips=args.clips, load=(load_before, os.getloadavg()))


def build_study(work: Path, *, clips: int):
    """A demo-like study over `clips` synthetic clips, three raters (one per run)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from annotator import roles, services
    from annotator.importers.proposal_files import proposals_import
    from annotator.models import ClipLabel
    from modelzoo import synthetic
    from modelzoo.services import synthetic_dataset_import

    User = get_user_model()
    owner = User.objects.create_user("bench-researcher", password=PASSWORD)
    owner.groups.add(Group.objects.get_or_create(name=roles.RESEARCHER)[0])
    raters = []
    for name in ("before", "precomputed", "prefetch"):
        rater = User.objects.create_user(f"rater-{name}", password=PASSWORD)
        rater.groups.add(Group.objects.get_or_create(name=roles.RATER)[0])
        raters.append(rater)
    root = work / "synthetic"
    config = synthetic.SyntheticConfig(num_clips=clips, num_classes=6, seed=0, size=64)
    synthetic.generate_dataset(root, config)
    dataset, _ = synthetic_dataset_import(root=root, dataset_name="bench-rater-page", owner=owner)
    proposals = work / "proposals.csv"
    names = sorted(dataset.taxonomy.categories.values_list("name", flat=True))
    with proposals.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["clip_id", "label", "score", "heads"])
        for clip_id, label in ClipLabel.objects.filter(clip__dataset=dataset).values_list(
            "clip__clip_id", "category__name"
        ):
            other = names[(names.index(label) + 1) % len(names)]
            writer.writerow([clip_id, label, "0.9", "continuous;audio"])
            writer.writerow([clip_id, other, "0.4", "visual"])
    proposals_import(dataset=dataset, name="file proposals", path=proposals)
    study = services.study_create(
        name="Bench: rater page",
        dataset=dataset,
        proposal_set=dataset.proposal_sets.get(name="file proposals"),
        owner=owner,
        raters=raters,
        sample_size=clips,
        raters_per_clip=len(raters),
        decoys_per_clip=1,
        show_evidence=True,
        stratified=False,
    )
    return study, raters


def serve(port: int, work: Path) -> subprocess.Popen:
    """gunicorn as the demo runs it (threads, not processes: SQLite and two cores)."""
    from load_harness import gunicorn_start

    return gunicorn_start(
        env=dict(os.environ), workers=1, worker_class="gthread", threads=8, port=port, log_path=work / "gunicorn.log"
    )


def free_port() -> int:
    from load_harness import free_port as harness_free_port

    return harness_free_port()


def measure_all(base: str, study, raters, *, clips: int) -> list[tuple[str, list[float], list[float]]]:
    from playwright.sync_api import sync_playwright

    from annotator import services

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            rows.append(("full page, strip on request", *rate(browser, base, study, raters[0], "?prefetch=0", clips)))
            job = services.spectrogram_job_start(study=study)
            services.spectrogram_job_run(job_id=job.pk, task_id="bench")
            rows.append(("full page, precomputed", *rate(browser, base, study, raters[1], "?prefetch=0", clips)))
            rows.append(("prefetch + precomputed", *rate(browser, base, study, raters[2], "", clips)))
        finally:
            browser.close()
    return rows


def rate(browser, base: str, study, rater, query: str, clips: int) -> tuple[list[float], list[float]]:
    """Rate clips + 1 clips by keyboard; the times (ms) from Enter to each next clip's video
    playable and strip drawn."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.add_init_script(OBSERVER)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        rate_url = f"/rate/{study.pk}/{query}"
        page.goto(f"{base}/accounts/login/?next={rate_url}")
        page.fill("#id_username", rater.username)
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_function("window.__bench && window.__bench.clip && window.__bench.video && window.__bench.strip")
        video_ms, strip_ms = [], []
        for _ in range(clips):
            current = page.evaluate("window.__bench.clip")
            for position in range(page.locator("#labels .label-toggle").count()):
                page.keyboard.press(str(position + 1))
            page.wait_for_timeout(300)  # a rater looks at the clip: the page's loads settle
            start = page.evaluate("Date.now()")
            page.keyboard.press("Enter")
            page.wait_for_function(
                "old => window.__bench && window.__bench.clip && window.__bench.clip !== old"
                " && window.__bench.video && window.__bench.strip",
                arg=current,
            )
            ready = page.evaluate("window.__bench")
            video_ms.append(ready["video"] - start)
            strip_ms.append(ready["strip"] - start)
    finally:
        context.close()
    return video_ms, strip_ms


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def print_table(rows, *, clips: int, load) -> None:
    model = next(
        (line.split(":", 1)[1].strip() for line in _lscpu().splitlines() if line.startswith("Model name")), "?"
    )
    print(f"Enter -> next clip on the rater page, {clips} clips per row; {model}, {os.cpu_count()} CPUs")
    print(f"load average before {load[0][0]:.2f}, after {load[1][0]:.2f} (1 min)")
    header = f"{'flow':<30} {'video p50':>10} {'video p95':>10} {'strip p50':>10} {'strip p95':>10}"
    print(header)
    print("-" * len(header))
    for name, video, strip in rows:
        print(
            f"{name:<30} {percentile(video, 50):>8.0f} ms {percentile(video, 95):>7.0f} ms"
            f" {percentile(strip, 50):>7.0f} ms {percentile(strip, 95):>7.0f} ms"
        )
    before, after = rows[0], rows[-1]
    worst_after = max(percentile(after[1], 95), percentile(after[2], 95))
    print(
        f"prefetch vs before: video p95 {percentile(before[1], 95) / max(percentile(after[1], 95), 0.1):.1f}x faster,"
        f" strip p95 {percentile(before[2], 95) / max(percentile(after[2], 95), 0.1):.1f}x faster;"
        f" target p95 < {TARGET_P95_MS:.0f} ms: {'met' if worst_after < TARGET_P95_MS else 'NOT met'}"
    )


def _lscpu() -> str:
    try:
        return subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return ""


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"({time.monotonic() - started:.0f} s)")
