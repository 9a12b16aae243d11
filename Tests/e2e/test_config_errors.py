"""Configuration: errors exit 2 naming the key (and "line N" for the file), precedence,
secrets from files, and secrets never printed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import Agent, Run, Tree, assert_dir_mirror, assert_no_secret, assert_s3_mirror, s3_config

SECRET = "SuperSecretValue-DoNotPrint-7f3a9c2e1b"


def base_tree(tmp_path: Path) -> Tree:
    t = Tree()
    t.add_root("output", tmp_path / "out")
    t.write("output", "a.txt", "a\n")
    t.write("output", "sub/b.png", 123)
    return t


def base_settings(tmp_path: Path, tree: Tree, remote: Path | None = None) -> dict[str, str]:
    remote = remote or tmp_path / "remote"
    remote.mkdir(parents=True, exist_ok=True)
    return {
        "LIFEBOAT_WATCH": tree.watch_setting(),
        "LIFEBOAT_REMOTE": f"file://{remote}",
        "AWS_SECRET_ACCESS_KEY": SECRET,
    }


def assert_config_error(r: Run, key: str | None, line: int | None = None) -> None:
    assert r.returncode == 2, f"expected exit status 2 (bad configuration)\n{r.describe()}"
    if key:
        assert key in r.output, f"error does not name {key}\n{r.describe()}"
    if line is not None:
        assert re.search(rf"(?i)\bline {line}\b", r.output), f"error does not say 'line {line}'\n{r.describe()}"
    assert not re.search(r"Fatal error|Stack dump|Backtrace|panic", r.output), f"crashed instead of reporting\n{r.describe()}"
    assert_no_secret(r, SECRET)


def assert_nothing_mirrored(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    assert not remote.exists() or not any(remote.rglob("*")), "files were mirrored despite a config error"


# --------------------------------------------------------------------------- errors in the file


def test_unknown_lifeboat_key_in_file_is_named_with_line(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    agent.configure({**base_settings(tmp_path, t), "LIFEBOAT_WACH": "/tmp"})
    r = agent.resync()
    assert_config_error(r, "LIFEBOAT_WACH", agent.line_of("LIFEBOAT_WACH="))
    assert_nothing_mirrored(tmp_path)


def test_malformed_line_without_equals_is_reported_with_line(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    agent.configure(base_settings(tmp_path, t), extra_lines=["LIFEBOAT_CONCURRENCY 4"])
    r = agent.resync()
    assert_config_error(r, None, agent.line_of("LIFEBOAT_CONCURRENCY 4"))
    assert_nothing_mirrored(tmp_path)


def test_malformed_secret_line_is_reported_without_echoing_the_secret(agent: Agent, tmp_path):
    """A YAML-style slip (`KEY: value`) on the secret's line must not print the value."""
    t = base_tree(tmp_path)
    settings = base_settings(tmp_path, t)
    del settings["AWS_SECRET_ACCESS_KEY"]
    agent.configure(settings, extra_lines=[f"AWS_SECRET_ACCESS_KEY: {SECRET}"])
    r = agent.resync()
    assert_config_error(r, None, agent.line_of("AWS_SECRET_ACCESS_KEY:"))


def test_bad_duration_names_key_and_line(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    agent.configure({**base_settings(tmp_path, t), "LIFEBOAT_SETTLE": "fast"})
    r = agent.resync()
    assert_config_error(r, "LIFEBOAT_SETTLE", agent.line_of("LIFEBOAT_SETTLE="))


@pytest.mark.parametrize("value", ["lots", "5 XB", "-5MiB"])
def test_bad_size_names_key_and_line(agent: Agent, tmp_path, value):
    t = base_tree(tmp_path)
    agent.configure({**base_settings(tmp_path, t), "LIFEBOAT_PART_SIZE": value})
    r = agent.resync()
    assert_config_error(r, "LIFEBOAT_PART_SIZE", agent.line_of("LIFEBOAT_PART_SIZE="))


def test_bad_remote_url_names_key_and_line(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    s = base_settings(tmp_path, t)
    s["LIFEBOAT_REMOTE"] = "ftp://x"
    agent.configure(s)
    r = agent.resync()
    assert_config_error(r, "LIFEBOAT_REMOTE", agent.line_of("LIFEBOAT_REMOTE="))


def test_bad_enum_value_names_key_and_line(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    agent.configure({**base_settings(tmp_path, t), "LIFEBOAT_DELETE": "sometimes"})
    r = agent.resync()
    assert_config_error(r, "LIFEBOAT_DELETE", agent.line_of("LIFEBOAT_DELETE="))


def test_missing_watch_directory_is_a_config_error(agent: Agent, tmp_path):
    missing = tmp_path / "does-not-exist"
    (tmp_path / "remote").mkdir()
    agent.configure({"LIFEBOAT_WATCH": f"output={missing}", "LIFEBOAT_REMOTE": f"file://{tmp_path / 'remote'}",
                     "AWS_SECRET_ACCESS_KEY": SECRET})
    r = agent.resync()
    assert r.returncode == 2, r.describe()
    assert "LIFEBOAT_WATCH" in r.output or str(missing) in r.output, r.describe()
    assert_no_secret(r, SECRET)


def test_missing_watch_setting_is_named(agent: Agent, tmp_path):
    (tmp_path / "remote").mkdir()
    agent.configure({"LIFEBOAT_REMOTE": f"file://{tmp_path / 'remote'}", "AWS_SECRET_ACCESS_KEY": SECRET})
    r = agent.resync()
    assert_config_error(r, "LIFEBOAT_WATCH")


def test_missing_remote_setting_is_named(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), "AWS_SECRET_ACCESS_KEY": SECRET})
    r = agent.resync()
    assert_config_error(r, "LIFEBOAT_REMOTE")


def test_missing_config_file_is_an_error(agent: Agent, tmp_path):
    r = agent.run("resync", "--config", str(tmp_path / "nope.conf"), config=False)
    assert r.returncode == 2, r.describe()
    assert "nope.conf" in r.output, r.describe()


def test_unknown_flag_is_named(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    agent.configure(base_settings(tmp_path, t))
    r = agent.resync("--no-such-flag")
    assert r.returncode == 2, r.describe()
    assert "--no-such-flag" in r.output or "no-such-flag" in r.output, r.describe()


def test_comments_and_blank_lines_are_allowed(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    s = base_settings(tmp_path, t)
    lines = ["# leading comment", "", "   ", "# another"]
    for k, v in s.items():
        lines += [f"{k}={v}", "", "# between"]
    lines.append(f"LIFEBOAT_JOURNAL={agent.journal}")
    agent.write_lines(lines)
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    assert_dir_mirror(tmp_path / "remote", t)


# --------------------------------------------------------------------------- errors in the environment


def test_bad_value_in_environment_names_the_key(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    agent.configure(base_settings(tmp_path, t))
    r = agent.resync(env={"LIFEBOAT_SETTLE": "fast", "AWS_SECRET_ACCESS_KEY": SECRET})
    assert_config_error(r, "LIFEBOAT_SETTLE")


def test_unknown_lifeboat_variable_in_environment_is_named(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    agent.configure(base_settings(tmp_path, t))
    r = agent.resync(env={"LIFEBOAT_WACH": "x"})
    assert_config_error(r, "LIFEBOAT_WACH")


# --------------------------------------------------------------------------- precedence


def test_environment_overrides_the_file(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    file_remote = tmp_path / "from-file"
    env_remote = tmp_path / "from-env"
    env_remote.mkdir()
    agent.configure(base_settings(tmp_path, t, remote=file_remote))
    r = agent.resync(env={"LIFEBOAT_REMOTE": f"file://{env_remote}"})
    assert r.returncode == 0, r.describe()
    assert_dir_mirror(env_remote, t)
    assert not file_remote.exists() or not any(file_remote.rglob("*")), "the file's LIFEBOAT_REMOTE won over the environment"


def test_lifeboat_config_variable_names_the_file_when_no_flag(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    agent.configure(base_settings(tmp_path, t))
    r = agent.run("resync", config=False, env={"LIFEBOAT_CONFIG": str(agent.conf)})
    assert r.returncode == 0, r.describe()
    assert_dir_mirror(tmp_path / "remote", t)


def test_config_flag_wins_over_lifeboat_config_variable(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    agent.configure(base_settings(tmp_path, t))
    bogus = tmp_path / "bogus.conf"
    bogus.write_text("LIFEBOAT_WACH=broken\n")
    r = agent.resync(env={"LIFEBOAT_CONFIG": str(bogus)})
    assert r.returncode == 0, r.describe()
    assert_dir_mirror(tmp_path / "remote", t)


# --------------------------------------------------------------------------- secrets


@pytest.mark.parametrize("trailing_newline", [False, True], ids=["exact", "trailing-newline"])
def test_secret_access_key_file_is_read(agent: Agent, moto_signed, signed_bucket, tmp_path, trailing_newline):
    t = base_tree(tmp_path)
    secret_file = tmp_path / "secrets" / "aws_secret_access_key"
    secret_file.parent.mkdir()
    secret_file.write_text(moto_signed.secret_access_key + ("\n" if trailing_newline else ""))
    cfg = s3_config(moto_signed, signed_bucket, "sf")
    del cfg["AWS_SECRET_ACCESS_KEY"]
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **cfg, "LIFEBOAT_S3_SECRET_ACCESS_KEY_FILE": str(secret_file)})
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    assert_no_secret(r, moto_signed.secret_access_key)
    assert_s3_mirror(moto_signed, signed_bucket, "sf", t)


def test_access_key_id_file_is_read(agent: Agent, moto_signed, signed_bucket, tmp_path):
    t = base_tree(tmp_path)
    id_file = tmp_path / "aws_access_key_id"
    id_file.write_text(moto_signed.access_key_id)
    cfg = s3_config(moto_signed, signed_bucket, "kf")
    del cfg["AWS_ACCESS_KEY_ID"]
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **cfg, "LIFEBOAT_S3_ACCESS_KEY_ID_FILE": str(id_file)})
    r = agent.resync()
    assert r.returncode == 0, r.describe()
    assert_s3_mirror(moto_signed, signed_bucket, "kf", t)


def test_missing_secret_file_is_a_config_error_naming_the_key(agent: Agent, moto_signed, signed_bucket, tmp_path):
    t = base_tree(tmp_path)
    cfg = s3_config(moto_signed, signed_bucket, "sf")
    del cfg["AWS_SECRET_ACCESS_KEY"]
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **cfg,
                     "LIFEBOAT_S3_SECRET_ACCESS_KEY_FILE": str(tmp_path / "missing-secret")})
    r = agent.resync()
    assert r.returncode == 2, r.describe()
    assert "LIFEBOAT_S3_SECRET_ACCESS_KEY_FILE" in r.output, r.describe()


def test_credentials_from_environment_are_used(agent: Agent, moto_signed, signed_bucket, tmp_path):
    t = base_tree(tmp_path)
    cfg = s3_config(moto_signed, signed_bucket, "envcred")
    env = {"AWS_ACCESS_KEY_ID": cfg.pop("AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY": cfg.pop("AWS_SECRET_ACCESS_KEY")}
    agent.configure({"LIFEBOAT_WATCH": t.watch_setting(), **cfg})
    r = agent.resync(env=env)
    assert r.returncode == 0, r.describe()
    assert_no_secret(r, moto_signed.secret_access_key)
    assert_s3_mirror(moto_signed, signed_bucket, "envcred", t)


def test_secrets_never_printed_in_config_errors(agent: Agent, tmp_path):
    t = base_tree(tmp_path)
    env_secret = "EnvSecretAlsoNeverPrinted-0042-zz"
    agent.configure({**base_settings(tmp_path, t), "AWS_ACCESS_KEY_ID": "AKIATESTTESTTEST",
                     "LIFEBOAT_SETTLE": "fast"})
    for extra_env in ({}, {"AWS_SECRET_ACCESS_KEY": env_secret}):
        r = agent.resync(env=extra_env)
        assert_config_error(r, "LIFEBOAT_SETTLE")
        assert_no_secret(r, SECRET, env_secret)
        r = agent.run("status", "--json")
        assert_no_secret(r, SECRET, env_secret)
