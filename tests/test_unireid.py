"""UNIReID at the paper's size: ViT-B/16 at 384x128 (random weights), two Adam steps of the full objective on CPU."""
import math

from reidbook.methods.unireid import paper_smoke_test


def test_paper_configuration_two_steps():
    history = paper_smoke_test(steps=2, batch=2)
    assert len(history) == 2
    assert set(history[0]) == {'L_SR', 'L_TR', 'L_FR', 'L_c'}
    assert all(math.isfinite(v) for h in history for v in h.values())
