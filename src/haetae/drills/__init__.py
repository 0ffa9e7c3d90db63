"""Drills (seed 001 8, seed 000's quarterly drills): tabletop exercises, simulations, game
days and chaos experiments, run as incidents with the drill flag and scored on seed 001 8.3's
scorecard."""
