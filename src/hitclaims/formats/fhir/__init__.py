"""FHIR R4 adapters: a Bundle of Claims out, and episodes in and out as Bundles.

`claim_bundle.render_fhir`, `episode_out.episode_to_bundle` and `episode_in.bundle_to_episode` are
the entry points; `systems` and `people` hold what they share. Import the module you need: this
package re-exports nothing, so that importing it does not load fhir.resources.
"""
