UPDATE units SET status = %s WHERE id = %s
