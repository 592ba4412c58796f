"""The mite image: built offline from the repository's wheel, `mite` as entrypoint, not root."""

import json

from conftest import run


def _inspect(image):
    return json.loads(run(["docker", "image", "inspect", image]).stdout)[0]


def test_image_runs_mite_as_a_non_root_user_in_the_scenario_folder(mite_image):
    config = _inspect(mite_image)["Config"]
    assert config["Entrypoint"] == ["mite"]
    assert config["User"] == "mite"
    assert config["WorkingDir"] == "/mite"
    who = run(["docker", "run", "--rm", "--network=none", "--entrypoint", "id", mite_image]).stdout
    assert who.startswith("uid=10001(mite)"), who


def test_image_answers_mite_commands(mite_image):
    version = run(["docker", "run", "--rm", "--network=none", mite_image, "--version"])
    assert version.stdout.strip().endswith("2.11.0"), version
    imports = run(["docker", "run", "--rm", "--network=none", "--entrypoint", "python3", mite_image,
                   "-c", "import mite._native, mite_http, acurl, uvloop; print('ok')"])
    assert imports.stdout.strip() == "ok"


def test_image_runs_a_scenario_from_its_working_directory(mite_image, tmp_path):
    # The working directory is on the Python path: a mounted scenario file imports by its name.
    (tmp_path / "hello.py").write_text(
        "from mite.scenario import StopVolumeModel\n"
        "async def journey(ctx):\n"
        "    async with ctx.transaction('hello'):\n"
        "        pass\n"
        "def vm(start, end):\n"
        "    if start > 2:\n"
        "        raise StopVolumeModel\n"
        "    return 1\n"
        "def scenario():\n"
        "    return [['hello:journey', None, vm]]\n"
    )
    tmp_path.chmod(0o777)  # the image's user writes collector_data/ next to the scenario
    out = run(["docker", "run", "--rm", "--network=none", "-v", f"{tmp_path}:/mite", mite_image,
               "scenario", "test", "hello:scenario"], timeout=120)
    assert "hello" in out.stdout + out.stderr
    assert (tmp_path / "collector_data" / "current").stat().st_size > 0


def test_image_is_small(mite_image):
    size = _inspect(mite_image)["Size"]
    base = _inspect("mite-offline-base:bookworm")["Size"]
    # The virtualenv with mite and uvloop adds well under 100 MB to its base image.
    assert size - base < 100e6, (size, base)
