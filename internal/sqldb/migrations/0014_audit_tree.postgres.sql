CREATE TRIGGER audit_leaf_append_only BEFORE UPDATE OR DELETE ON audit_leaf
	FOR EACH ROW EXECUTE FUNCTION dancu_append_only();
CREATE TRIGGER audit_tree_hash_append_only BEFORE UPDATE OR DELETE ON audit_tree_hash
	FOR EACH ROW EXECUTE FUNCTION dancu_append_only();
CREATE TRIGGER audit_tree_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_tree_checkpoint
	FOR EACH ROW EXECUTE FUNCTION dancu_append_only();
CREATE TRIGGER audit_note_key_append_only BEFORE UPDATE OR DELETE ON audit_note_key
	FOR EACH ROW EXECUTE FUNCTION dancu_append_only();
