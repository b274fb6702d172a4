"""Hostile files: oversized inputs and symbolic links that leave the app end in a clean error."""

from __future__ import annotations

import os

from cmp.settings import Settings


def test_file_over_the_default_size_limit(scratch) -> None:
    big = scratch.repo / "app" / "huge.yaml"
    big.parent.mkdir()
    with open(big, "wb") as handle:  # sparse: a gigabyte that costs no disk and must never be read
        handle.truncate(1 << 30)
    scratch.render("app").assert_clean_error(
        "app/huge.yaml:", f"over the limit of {Settings().max_file_size} (setting max-file-size)")


def test_file_over_a_configured_size_limit(scratch) -> None:
    scratch.write("repo/app/model.yaml", "# padding\n" * 200 + "apiVersion: v1\nkind: ConfigMap\n")
    scratch.render("app", "--max-file-size", "1000").assert_clean_error("app/model.yaml:", "over the limit of 1000")


def test_symlinked_file_out_of_the_app(scratch) -> None:
    (scratch.repo / "app").mkdir()
    os.symlink(scratch.outside / "secret.yaml", scratch.repo / "app" / "secret.yaml")
    scratch.render("app").assert_clean_error("app/secret.yaml", "symbolic link points outside the app directory")


def test_relative_symlink_climbing_out(scratch) -> None:
    (scratch.repo / "app").mkdir()
    os.symlink("../../outside/secret.yaml", scratch.repo / "app" / "a.yaml")
    scratch.render("app").assert_clean_error("app/a.yaml", "outside the app directory")


def test_device_and_fifo_are_not_read(scratch) -> None:
    (scratch.repo / "app").mkdir()
    os.mkfifo(scratch.repo / "app" / "pipe.yaml")  # opening a FIFO would block forever
    scratch.render("app").assert_clean_error("app/pipe.yaml", "not a regular file")
