UPDATE orders SET published_at = %s WHERE id = %s
