"""What several pages show, one module each: KPI tiles, stage cards, the banner, and the
pieces every page has (language switch, 404, back link)."""
