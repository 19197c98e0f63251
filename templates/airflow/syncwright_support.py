"""What the DAGs syncwright writes share: the operator that runs a compiled SQL file, and the
Bash command that runs a compiled plan. Written by `syncwright airflow` beside the DAGs; do not edit.

Targets Airflow 2.9 and later, and 3.x, with the common-sql provider they install (DbApiHook.run with
return_last=False, and hook.descriptions).
"""
from __future__ import annotations

import re
import shlex

from airflow.providers.common.sql.hooks.sql import fetch_all_handler
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator


# How each engine's own lexer reads a script, as dialects/<name>.json `sqlText` says (a test
# holds the two equal). BigQuery has none here: its scripts run whole, as one job.
SQL_TEXT = {
    "postgres": {
        "lineComments": ["--"],
        "blockComments": {"nested": True},
        "quotes": [
            {"open": "E'", "close": "'", "doubled": True, "backslash": True},
            {"open": "e'", "close": "'", "doubled": True, "backslash": True},
            {"open": "'", "close": "'", "doubled": True, "backslash": False},
            {"open": '"', "close": '"', "doubled": True, "backslash": False},
        ],
        "dollarQuotes": "tagged",
    },
    "snowflake": {
        "lineComments": ["--", "//"],
        "blockComments": {"nested": False},
        "quotes": [
            {"open": "'", "close": "'", "doubled": True, "backslash": True},
            {"open": '"', "close": '"', "doubled": True, "backslash": False},
        ],
        "dollarQuotes": "plain",
    },
}

# A name runs on through `$` and non-ASCII letters: `a$b$` is one name, and no dollar quote opens in it.
_NAME_CHAR = re.compile("[A-Za-z0-9_$\u0080-\U0010ffff]")
_DOLLAR = {
    "tagged": re.compile("\\$(?:[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*)?\\$"),
    "plain": re.compile("\\$\\$"),
}
_LINE_END = re.compile("[\r\n]")


def _skip(sql: str, i: int, syntax: dict) -> tuple[int, bool] | None:
    """Where a comment or quoted text starting at i ends, and whether it is code (a quote is, a
    comment is not); None when none starts there. Raises on one never closed."""
    for start in syntax["lineComments"]:
        if sql.startswith(start, i):
            end = _LINE_END.search(sql, i)
            return (len(sql) if end is None else end.start()), False
    if sql.startswith("/*", i):
        depth, j = 1, i + 2
        while j < len(sql) and depth > 0:
            if sql.startswith("*/", j):
                depth, j = depth - 1, j + 2
            elif syntax["blockComments"]["nested"] and sql.startswith("/*", j):
                depth, j = depth + 1, j + 2
            else:
                j += 1
        if depth > 0:
            raise ValueError(f"a /* comment at offset {i} is never closed")
        return j, False
    glued = i > 0 and _NAME_CHAR.match(sql[i - 1]) is not None
    dollar = _DOLLAR.get(syntax["dollarQuotes"])
    if sql[i] == "$" and dollar is not None and not glued:
        opened = dollar.match(sql, i)
        if opened:
            close = sql.find(opened.group(0), opened.end())
            if close < 0:
                raise ValueError(f"a {opened.group(0)} quoted text at offset {i} is never closed")
            return close + len(opened.group(0)), True
    for q in syntax["quotes"]:
        # A prefixed quote (E'...') only where a name does not run into it.
        if not sql.startswith(q["open"], i) or (len(q["open"]) > 1 and _NAME_CHAR.match(q["open"][0]) and glued):
            continue
        j = i + len(q["open"])
        while j < len(sql):
            if q["backslash"] and sql[j] == "\\":
                j += 2
            elif sql.startswith(q["close"], j):
                if q["doubled"] and sql.startswith(q["close"], j + len(q["close"])):
                    j += 2 * len(q["close"])
                else:
                    return j + len(q["close"]), True
            else:
                j += 1
        raise ValueError(f"a {q['open']} quoted text at offset {i} is never closed")
    return None


def statements(sql: str, dialect: str) -> list[str]:
    """The statements of a compiled script, split at each `;` outside strings, quoted names,
    dollar-quoted bodies and comments, as the dialect's own lexer reads them. Comments alone
    (a file's header) are not statements."""
    syntax = SQL_TEXT[dialect]
    out, start, code, i = [], 0, False, 0
    while i < len(sql):
        skipped = _skip(sql, i, syntax)
        if skipped is not None:
            i, is_code = skipped
            code = code or is_code
        elif sql[i] == ";":
            if code:
                out.append(sql[start:i].strip())
            start, code, i = i + 1, False, i + 1
        else:
            code = code or not sql[i].isspace()
            i += 1
    if code:
        out.append(sql[start:].strip())
    return out


def script_batches(sql: str, dialect: str) -> list[str]:
    """What the hook runs, one item at a time on one connection. A BigQuery script is one job
    (its TEMP tables, IF ... END IF blocks and transaction live only within one script), whose
    result is its last SELECT's, the summary row: it is never split. Postgres and Snowflake run
    one statement per call, so each statement's rows are kept."""
    if dialect == "bigquery":
        return [sql]
    return statements(sql, dialect)


def summary_row(results, descriptions):
    """The last statement that returned rows, as {column: value}: the script's summary row."""
    for rows, description in zip(reversed(list(results)), reversed(list(descriptions))):
        if rows and description:
            return dict(zip([d[0] for d in description], rows[0]))
    return None


class CompiledSqlOperator(SQLExecuteQueryOperator):
    """Runs a compiled SQL file, read when the task runs (a recompile needs no new DAG), on one
    connection as its dialect runs it (script_batches); the script's own BEGIN/COMMIT decide
    (autocommit). Returns the summary row, which goes to XCom. The SQL is data: it is never
    rendered as a Jinja template, so no text of a sync (a `where` string) is evaluated; nor is any
    other argument (the connection id, which the manifest gives, is one of the provider's
    template fields), as none of them needs Airflow's values."""

    template_fields = ()
    template_ext = ()

    def __init__(self, *, sql_file: str, dialect: str, **kwargs) -> None:
        if dialect not in SQL_TEXT and dialect != "bigquery":
            raise ValueError(f"{sql_file}: no way to run a {dialect} script")
        if dialect == "bigquery":
            # The scripts are standard SQL; BigQueryHook defaults to legacy SQL.
            kwargs["hook_params"] = {"use_legacy_sql": False, **(kwargs.get("hook_params") or {})}
        super().__init__(sql=sql_file, autocommit=True, split_statements=False, return_last=False, **kwargs)
        self.sql_file = sql_file
        self.dialect = dialect

    def execute(self, context):
        with open(self.sql_file, encoding="utf-8") as f:
            script = f.read()
        hook = self.get_db_hook()
        results = hook.run(sql=script_batches(script, self.dialect), autocommit=True, handler=fetch_all_handler, split_statements=False, return_last=False)
        row = summary_row(results or [], hook.descriptions)
        self.log.info("%s: %s", self.sql_file, row)
        return row


def run_plan_command(syncwright: str, plan: str, env: list[str]) -> str:
    """`syncwright run --plan FILE`, failing first, by name, on a variable the plan needs and the
    worker lacks; the variables pass through from the worker's environment, never through Airflow.
    BashOperator renders the command as a Jinja template: a `{{`, `{%` or `{#` of a path is
    written so that it renders as itself."""
    checks = "".join(f': "${{{name}:?{name} is not set on this worker}}" && ' for name in env if name.isidentifier() and name.isascii())
    command = checks + shlex.join([*shlex.split(syncwright), "run", "--plan", plan])
    return re.sub("{(?=[{%#])", "{{ '{' }}", command)
