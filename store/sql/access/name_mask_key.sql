SELECT key FROM name_mask_key
