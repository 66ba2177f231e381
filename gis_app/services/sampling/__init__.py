"""Spot-check sampling (抽查): spatially balanced, stratified by street, reproducible.

Engine (numpy/scipy, no database): ``pivotal`` (local pivotal method, the default),
``grts`` (GRTS), ``balance`` (Stevens & Olsen's Voronoi measure), ``allocation``,
``gbt2828`` (sample sizes), ``design`` (the stratified draw), ``estimate`` (share rectified
with intervals), ``assignment`` (double-random inspectors). Database side: ``frame``,
``service``, ``inspectors``, ``report``, ``maps``.

For the streets' ranking: ``service.quality_by_street(session, district_code)``.
"""
