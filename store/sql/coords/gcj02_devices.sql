SELECT id FROM devices WHERE coords = 'gcj02'
