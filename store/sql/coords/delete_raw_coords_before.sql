DELETE FROM position_raw_coords WHERE fix_at < %(before_at)s
