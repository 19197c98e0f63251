"""Reads what Airflow would build from generated DAG files, without Airflow: Python's own
parser, then the calls the files make. Prints JSON: per file its DAG's arguments, its tasks
(operator, task id, connection id, SQL file or Bash command as written) and the `>>` edges.
Also, given the DAG folder: `split FILE`, the statements syncwright_support.statements makes of a
SQL file; `summary`, summary_row of JSON {results, descriptions} on stdin; `templated`, what
Airflow would render of CompiledSqlOperator; `command SYNCWRIGHT PLAN ENV..`, a Bash task's command."""
import ast
import json
import sys
import types


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


def support(folder):
    # The helper imports Airflow's SQL operator; its pure functions need none of it.
    for name in ("airflow", "airflow.providers", "airflow.providers.common", "airflow.providers.common.sql",
                 "airflow.providers.common.sql.hooks", "airflow.providers.common.sql.hooks.sql",
                 "airflow.providers.common.sql.operators", "airflow.providers.common.sql.operators.sql"):
        sys.modules[name] = types.ModuleType(name)
    sys.modules["airflow.providers.common.sql.hooks.sql"].fetch_all_handler = None
    sys.modules["airflow.providers.common.sql.operators.sql"].SQLExecuteQueryOperator = type("SQLExecuteQueryOperator", (), {"template_fields": ("sql", "parameters")})
    sys.path.insert(0, folder)
    import syncwright_support
    return syncwright_support


if __name__ == "__main__":
    if sys.argv[1] == "split":
        s = support(sys.argv[2])
        print(json.dumps(s.statements(open(sys.argv[3], encoding="utf-8").read())))
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
