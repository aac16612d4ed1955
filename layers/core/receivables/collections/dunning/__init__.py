"""Dunning: the policy, the planner, the steps, the sweep, the reminder templates."""
