"""How long from the author's approval to the comment being visible through the web server?

Sets up, in a temporary folder, what "Going live" in the README describes, on loopback:
the intake started with deploy/between-sessions-intake.service's ExecStart, the real
Caddy with deploy/Caddyfile in front of it, the Akismet stand-in (approving), and a copy
of the project standing for the author's laptop, deployed once. A reader posts a comment
through Caddy; then the laptop runs

    invoke moderate --no-input --inbox http://127.0.0.1:<caddy> --deploy

(Akismet's approval, publish into content/comments/, changes sent to the intake, rebuild
with publishconf.py, rsync to Caddy's root), and the page is fetched through Caddy until
the comment shows. Prints the wall time of that run and the CPU time (user + system) of
the commands it ran, and the same for a deploy with nothing new. With --posts N the
laptop's site also holds N generated posts (5 comments each).

Then the same loop taken apart, each part its own command, to show where the time goes:
Python's start-up with the modules `invoke moderate` imports; `invoke moderate --no-build`
(load the intake's inbox, Akismet, publish into content/comments/, send the changes);
`invoke publish` (the publish build, selected: only the pages showing the changed
comments; see moderation.deploy); the rsync to Caddy's root; and for comparison a whole
publish build. Run:

    .venv/bin/python benchmarks/going_live.py [--posts 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))

from comments_build import generate  # noqa: E402

from moderation.deploy import PUBLISH_INPUTS_NAME, rsync_command  # noqa: E402
from moderation.settings import load_settings  # noqa: E402
from tests.support.akismet_standin import AkismetStandIn  # noqa: E402
from tests.support.deploy import going_live  # noqa: E402
from tests.support.intake import INVOKE  # noqa: E402

TOKEN = "bWVhc3VyaW5nLXRoZS13YXktYS1jb21tZW50LWdvZXMtbGl2ZQ"
POST_PATH = "/2016/03/texting-my-therapist/"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def post_comment(url: str, words: str) -> None:
    """A reader's comment on the sample post, through Caddy."""
    answer = httpx.post(
        url + "/api/comments",
        data={
            "post": "texting-my-therapist",
            "author": "Bench",
            "email": "bench@example.net",
            "comment": words,
        },
        headers={"Accept": "application/json"},
    )
    answer.raise_for_status()


def timed(label: str, command: list[str], cwd: Path, env: dict[str, str]) -> None:
    """Run `command`, printing its wall time and CPU time (user + system)."""
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    wall, used = time.perf_counter() - start, children_cpu() - cpu
    print(f"  {label}: wall {wall:.2f} s, CPU {used:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=0, help="generated posts beside the sample")
    # At most 4: the intake takes 5 comments from one address in 10 minutes, and the
    # parts take one more.
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as folder,
        AkismetStandIn() as akismet,
        going_live(Path(folder), TOKEN) as live,
    ):
        url, laptop, www = live.url, live.laptop, live.www
        if arguments.posts:
            generated, _ = generate(Path(folder) / "generated", arguments.posts, 5)
            shutil.copytree(generated, laptop / "content", dirs_exist_ok=True)
        env = {
            **os.environ,
            **akismet.environment(),
            "BETWEEN_SESSIONS_SITEURL": url,
            "BETWEEN_SESSIONS_DEPLOY_TARGET": str(www),
            "BETWEEN_SESSIONS_ADMIN_TOKEN": TOKEN,
        }

        def invoke(*task: str) -> None:
            subprocess.run(
                [str(INVOKE), *task], cwd=laptop, env=env, check=True, capture_output=True
            )

        invoke("deploy")
        print(f"site: sample + {arguments.posts} generated posts")
        for run in range(arguments.runs):
            words = f"Run {run}: the quiet after a session is its own kind of weather."
            post_comment(url, words)
            cpu, start = children_cpu(), time.perf_counter()
            invoke("moderate", "--no-input", "--inbox", url, "--deploy")
            while words not in httpx.get(url + POST_PATH).text:
                time.sleep(0.01)
            wall, used = time.perf_counter() - start, children_cpu() - cpu
            print(f"approval to visible: wall {wall:.2f} s, CPU {used:.2f} s")
        cpu, start = children_cpu(), time.perf_counter()
        invoke("deploy")
        print(
            f"deploy with nothing new: wall {time.perf_counter() - start:.2f} s, "
            f"CPU {children_cpu() - cpu:.2f} s"
        )

        imports = "import tasks, moderation.pipeline.remote, moderation.deploy, pelican"
        rsync = rsync_command(load_settings(laptop / "publishconf.py", env))
        print("the parts:")
        post_comment(url, "Some weeks the work is only turning up, and that counts.")
        timed("start-up and imports", [sys.executable, "-c", imports], laptop, env)
        moderate = ["moderate", "--no-input", "--inbox", url, "--no-build"]
        timed("invoke moderate --no-build", [str(INVOKE), *moderate], laptop, env)
        timed("invoke publish (selected)", [str(INVOKE), "publish"], laptop, env)
        timed("rsync to the web root", rsync, laptop, env)
        (laptop / "cache-publish" / PUBLISH_INPUTS_NAME).unlink()
        timed("invoke publish (whole, for comparison)", [str(INVOKE), "publish"], laptop, env)


if __name__ == "__main__":
    main()
