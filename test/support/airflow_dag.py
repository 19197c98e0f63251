"""Reads what Airflow would build from generated DAG files, without Airflow: Python's own
parser, then the calls the files make. Prints JSON: per file its DAG's arguments, its tasks
(operator, task id, connection id, SQL file or Bash command as written) and the `>>` edges.
Also, given the DAG folder: `split FILE [DIALECT]`, the statements syncwright_support.statements makes of a
SQL file; `execute FILE DIALECT`, what CompiledSqlOperator.execute hands its hook's run, and the
hook's parameters; `syntax`, the support file's SQL_TEXT; `load FILE..`, each DAG file run as
Airflow loads it, against stand-ins for Airflow's DAG and operators that refuse a task id twice,
a DAG or task id Airflow's validate_key refuses (over 250 characters, or another character than
letters, digits, `_`, `.` and `-`), and an Asset URI Airflow refuses (not ASCII, or with a `@`), as Airflow does (its DAG id, schedule and tasks' arguments); `summary`, summary_row of JSON {results, descriptions} on stdin; `templated`, what
Airflow would render of CompiledSqlOperator; `command SYNCWRIGHT PLAN ENV..`, a Bash task's command."""
import ast
import json
import re
import sys
import types
import urllib.parse


def validate_key(key):
    """As Airflow's airflow.utils.helpers.validate_key checks a DAG or task id."""
    if len(key) > 250:
        raise ValueError(f"The key {key!r} has to be less than 250 characters")
    if not re.match(r"^[\w.-]+$", key):
        raise ValueError(f"The key {key!r} has to be made of alphanumeric characters, dashes, dots and underscores exclusively")


def dag_of(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    out = {"dag": {}, "tasks": [], "edges": [], "imports": []}
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out["imports"].append(ast.unparse(node))
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "DAG":
                    out["dag"] = {k.arg: ast.unparse(k.value) for k in call.keywords}
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name):
            call = node.value
            kw = {k.arg: k.value for k in call.keywords}
            if "task_id" in kw:
                task = {"operator": call.func.id, "task_id": ast.literal_eval(kw["task_id"])}
                for key in ("conn_id", "sql_file", "bash_command", "append_env", "max_active_tis_per_dag"):
                    if key in kw:
                        task[key] = ast.unparse(kw[key])
                out["tasks"].append(task)
                names[node.targets[0].id] = task["task_id"]
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.BinOp) and isinstance(node.value.op, ast.RShift):
            chain = []
            expr = node.value
            while isinstance(expr, ast.BinOp):
                chain.insert(0, expr.right.id)
                expr = expr.left
            chain.insert(0, expr.id)
            out["edges"] += [[names[a], names[b]] for a, b in zip(chain, chain[1:])]
    return out


class Hook:
    """Records what an operator runs; returns no rows."""

    def __init__(self):
        self.calls, self.descriptions = [], []

    def run(self, sql, **kwargs):
        self.calls.append(sql)
        self.descriptions = [None for _ in sql]
        return [None for _ in sql]


class SQLExecuteQueryOperator:
    """Airflow's operator as far as CompiledSqlOperator uses it: its arguments, its hook, its log."""

    # As the common-sql provider has them: its own, then BaseSQLOperator's.
    template_fields = ("sql", "parameters", "conn_id", "database", "hook_params")

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.hook = Hook()
        self.log = types.SimpleNamespace(info=lambda *a: None)

        _register(self, kwargs)

    def get_db_hook(self):
        return self.hook


class DAG:
    current = None

    def __init__(self, **kwargs):
        validate_key(kwargs["dag_id"])
        self.kwargs, self.tasks = kwargs, {}

    def __enter__(self):
        DAG.current = self
        return self

    def __exit__(self, *exc):
        DAG.current = None


def _register(task, kwargs):
    validate_key(kwargs["task_id"])
    dag = DAG.current
    if dag is not None:
        if kwargs["task_id"] in dag.tasks:
            raise ValueError(f"Task id '{kwargs['task_id']}' has already been added to the DAG")
        dag.tasks[kwargs["task_id"]] = {"operator": type(task).__name__, **{k: repr(v) for k, v in kwargs.items()}}


class BashOperator:
    def __init__(self, **kwargs):
        _register(self, kwargs)


def asset(uri):
    """As Airflow's _sanitize_uri refuses an Asset (Dataset) URI."""
    if not uri or uri.isspace() or not uri.isascii():
        raise ValueError(f"Asset URI {uri!r} must be ASCII characters, not empty nor whitespace")
    if "@" in urllib.parse.urlsplit(uri).netloc:
        raise ValueError(f"Asset URI {uri!r} must not contain auth information")
    return f"Asset({uri!r})"


def load(folder, path):
    support(folder)
    for name in ("airflow.sdk", "airflow.providers.standard", "airflow.providers.standard.operators", "airflow.providers.standard.operators.bash"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["airflow.sdk"].DAG = DAG
    sys.modules["airflow.sdk"].Asset = asset
    sys.modules["airflow.providers.standard.operators.bash"].BashOperator = BashOperator
    scope = {"__name__": "dag_file"}
    exec(compile(open(path, encoding="utf-8").read(), path, "exec"), scope)
    dag = scope["dag"]
    return {"doc": scope.get("__doc__"), "dag": {k: repr(v) for k, v in dag.kwargs.items()}, "tasks": list(dag.tasks.values())}


def support(folder):
    # The helper imports Airflow's SQL operator; its pure functions need none of it.
    for name in ("airflow", "airflow.providers", "airflow.providers.common", "airflow.providers.common.sql",
                 "airflow.providers.common.sql.hooks", "airflow.providers.common.sql.hooks.sql",
                 "airflow.providers.common.sql.operators", "airflow.providers.common.sql.operators.sql"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["airflow.providers.common.sql.hooks.sql"].fetch_all_handler = None
    sys.modules["airflow.providers.common.sql.operators.sql"].SQLExecuteQueryOperator = SQLExecuteQueryOperator
    sys.path.insert(0, folder)
    import syncwright_support
    return syncwright_support


if __name__ == "__main__":
    if sys.argv[1] == "split":
        s = support(sys.argv[2])
        print(json.dumps(s.statements(open(sys.argv[3], encoding="utf-8").read(), sys.argv[4] if len(sys.argv) > 4 else "postgres")))
    elif sys.argv[1] == "execute":
        op = support(sys.argv[2]).CompiledSqlOperator(task_id="t", conn_id="c", sql_file=sys.argv[3], dialect=sys.argv[4])
        op.execute({})
        print(json.dumps({"run": op.hook.calls, "hook_params": op.kwargs.get("hook_params")}))
    elif sys.argv[1] == "load":
        print(json.dumps({p: load(sys.argv[2], p) for p in sys.argv[3:]}))
    elif sys.argv[1] == "syntax":
        print(json.dumps(support(sys.argv[2]).SQL_TEXT))
    elif sys.argv[1] == "summary":
        s = support(sys.argv[2])
        data = json.load(sys.stdin)
        print(json.dumps(s.summary_row([[tuple(r) for r in rows] if rows is not None else None for rows in data["results"]], data["descriptions"])))
    elif sys.argv[1] == "templated":
        op = support(sys.argv[2]).CompiledSqlOperator
        print(json.dumps([list(op.template_fields), list(op.template_ext)]))
    elif sys.argv[1] == "command":
        s = support(sys.argv[2])
        print(json.dumps(s.run_plan_command(sys.argv[3], sys.argv[4], sys.argv[5:])))
    else:
        print(json.dumps({p: dag_of(p) for p in sys.argv[1:]}))
