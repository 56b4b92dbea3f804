"""The one colour palette of the dashboard and the reports (plotly colours as hex; Streamlit badge names)."""

SERIES = ("#2f6fd6", "#e0572b", "#2e9e44", "#8a4fd1", "#d4a106", "#11a3b5")  # one colour per setup or device
BASIS = {"measured": "#2e9e44", "calibrated": "#2f6fd6", "roofline": "#e08a00"}
BASIS_BADGE = {"measured": "green", "calibrated": "blue", "roofline": "orange"}  # st.badge colour names
SOURCE = {"published": "#2f6fd6", "profiler": "#2e9e44", "upload": "#e0572b"}
OTHER = "#777777"      # a basis or source with no colour of its own
DEMAND = "#e0572b"     # the demand / target line
REFERENCE = "#9aa5b1"  # diagonals and 100 % lines
ACCENT = "#2166ac"     # report headings and the recommendation box
WARNING = "#b2182b"    # an infeasible plan
ENERGY_SCALE = "Viridis"  # continuous colour for energy


def series(i: int) -> str:
    """The i-th series colour, cycling."""
    return SERIES[i % len(SERIES)]
