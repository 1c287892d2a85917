UPDATE orders SET state = %s WHERE id = %s
