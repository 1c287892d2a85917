UPDATE alarms SET cleared_at = %s WHERE id = %s AND cleared_at IS NULL RETURNING id
