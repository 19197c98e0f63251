select
    c.id as customer_id,
    lower(c.email) as email,
    c.plan,
    coalesce(sum(o.amount), 0)::numeric(12, 2) as lifetime_value,
    greatest(c.updated_at, max(o.ordered_at)) as updated_at
from app.customers as c
left join app.orders as o on o.customer_id = c.id
group by c.id, c.email, c.plan, c.updated_at
