"""Keep Jinja's compiled templates between builds, in CACHE_PATH/jinja/.

Pelican makes a new Jinja environment for each generator of each build, and each compiles
every template it renders from its source: about 0.1 s of CPU a build for this theme,
more than half of a selected publish build of the sample site (see
benchmarks/going_live.py). With Jinja's bytecode cache a template is compiled once, and
later builds load the compiled code (about 1 ms a template).

A template's compiled code is found again only under the same source and the same
options that shape what it compiles to (the Jinja version, the delimiters and whitespace
options, the extensions, `finalize`, `autoescape`, async): a theme edit, a changed
JINJA_ENVIRONMENT or another plugin's extension compiles anew. Python's own version is
checked by Jinja in each cached file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import Environment
from jinja2.bccache import Bucket, FileSystemBytecodeCache
from pelican import signals

FOLDER = "jinja"


def _name(value: object) -> str:
    # A function's repr holds its address, which changes with every process.
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', value)}"
    return repr(value)


def compile_options(environment: Environment) -> str:
    """What, beside a template's source, decides the code Jinja compiles it to."""
    return repr(
        (
            jinja2.__version__,
            environment.block_start_string,
            environment.block_end_string,
            environment.variable_start_string,
            environment.variable_end_string,
            environment.comment_start_string,
            environment.comment_end_string,
            environment.line_statement_prefix,
            environment.line_comment_prefix,
            environment.trim_blocks,
            environment.lstrip_blocks,
            environment.newline_sequence,
            environment.keep_trailing_newline,
            environment.optimized,
            environment.is_async,
            sorted(environment.extensions),
            _name(environment.finalize),
            _name(environment.autoescape),
        )
    )


class OptionsBytecodeCache(FileSystemBytecodeCache):
    """Jinja's file cache, whose checksum covers the environment's compile options beside
    the template's source (Jinja's own covers the source only)."""

    def get_bucket(
        self, environment: Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        # As BytecodeCache.get_bucket, but for the checksum.
        key = self.get_cache_key(name, filename)
        checksum = hashlib.sha1(
            f"{compile_options(environment)}\0{source}".encode(), usedforsecurity=False
        ).hexdigest()
        bucket = Bucket(environment, key, checksum)
        self.load_bytecode(bucket)
        return bucket


def use_cache(generator: Any) -> None:
    """Give a generator's Jinja environment the bytecode cache in CACHE_PATH."""
    folder = Path(generator.settings["CACHE_PATH"]) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    generator.env.bytecode_cache = OptionsBytecodeCache(str(folder))


def register() -> None:
    """Connect the plugin to Pelican's signals."""
    signals.generator_init.connect(use_cache)
