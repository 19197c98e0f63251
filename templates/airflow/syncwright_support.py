"""What the DAGs syncwright writes share: the operator that runs a compiled SQL file, and the
Bash command that runs a compiled plan. Written by `syncwright airflow` beside the DAGs; do not edit.

Targets Airflow 2.9 and later, and 3.x, with the common-sql provider they install (DbApiHook.run with
return_last=False, and hook.descriptions).
"""
from __future__ import annotations

import shlex

from airflow.providers.common.sql.hooks.sql import fetch_all_handler
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator


def statements(sql: str) -> list[str]:
    """The statements of a compiled script, split at each `;` outside strings, quoted names,
    dollar-quoted bodies and comments (as Postgres reads them)."""
    out, start, i, n = [], 0, 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"`":
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # a doubled quote stands for itself
                        j += 2
                        continue
                    break
                if sql[j] == "\\" and c == "`":
                    j += 1
                j += 1
            i = j + 1
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif c == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "$":
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            if j < n and sql[j] == "$" and not sql[i + 1:j][:1].isdigit():
                tag = sql[i:j + 1]
                end = sql.find(tag, j + 1)
                i = n if end < 0 else end + len(tag)
            else:
                i = j
        elif c == ";":
            out.append(sql[start:i])
            start = i = i + 1
        else:
            i += 1
    out.append(sql[start:])
    # Comments alone (a file's header) are not statements.
    return [s.strip() for s in out if _code(s)]


def _code(text: str) -> bool:
    lines = [line.strip() for line in text.strip().splitlines()]
    return any(line and not line.startswith("--") for line in lines)


def summary_row(results, descriptions):
    """The last statement that returned rows, as {column: value}: the script's summary row."""
    for rows, description in zip(reversed(list(results)), reversed(list(descriptions))):
        if rows and description:
            return dict(zip([d[0] for d in description], rows[0]))
    return None


class CompiledSqlOperator(SQLExecuteQueryOperator):
    """Runs a compiled SQL file, read when the task runs (a recompile needs no new DAG), one
    statement at a time on one connection; the script's own BEGIN/COMMIT decide (autocommit).
    Returns the summary row, which goes to XCom. The SQL is data: it is never rendered as a
    Jinja template, so no text of a sync (a `where` string) is evaluated."""

    template_fields = tuple(f for f in SQLExecuteQueryOperator.template_fields if f != "sql")
    template_ext = ()

    def __init__(self, *, sql_file: str, **kwargs) -> None:
        super().__init__(sql=sql_file, autocommit=True, split_statements=False, return_last=False, **kwargs)
        self.sql_file = sql_file

    def execute(self, context):
        with open(self.sql_file, encoding="utf-8") as f:
            script = f.read()
        hook = self.get_db_hook()
        results = hook.run(sql=statements(script), autocommit=True, handler=fetch_all_handler, split_statements=False, return_last=False)
        row = summary_row(results or [], hook.descriptions)
        self.log.info("%s: %s", self.sql_file, row)
        return row


def run_plan_command(syncwright: str, plan: str, env: list[str]) -> str:
    """`syncwright run --plan FILE`, failing first, by name, on a variable the plan needs and the
    worker lacks; the variables pass through from the worker's environment, never through Airflow."""
    checks = "".join(f': "${{{name}:?{name} is not set on this worker}}" && ' for name in env if name.isidentifier() and name.isascii())
    return checks + shlex.join([*shlex.split(syncwright), "run", "--plan", plan])
