"""The default network's latent form nodes, each the type or form of one diagnosis.

Knowledge passes 19 (CPPD), 20 (soft-tissue chondroma) and 21 (extraskeletal
chondrosarcoma). ``FORMS`` is in the order the forms appear among the parents of the
findings they tie (``anatomic_site`` and the others of the star plan's form component).
"""

from __future__ import annotations

FORM_OF = {
    "cppd_form": "cppd_deposition",
    "chondroma_form": "soft_tissue_chondroma",
    "escs_form": "extraskeletal_chondrosarcoma",
}
FORMS = tuple(FORM_OF)
