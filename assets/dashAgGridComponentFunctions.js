/* Cell renderers of the stage list grid (dash-ag-grid looks them up by name).
 *
 * OrderLink: the order number as a real link to the order page. The href comes with the
 * row from the server (already percent-encoded, one rule for every page). A plain click
 * navigates inside the app like dcc.Link does; ctrl/cmd/shift-click and middle-click are
 * left to the browser, so they open a new tab or window.
 */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

dagcomponentfuncs.OrderLink = function (props) {
    var href = props.data && props.data.order_href;
    var text = props.value === null || props.value === undefined ? "" : String(props.value);
    if (!href) {
        return text;
    }
    return React.createElement("a", {
        href: href,
        className: "ob-order-link",
        onClick: function (event) {
            if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
                return;  // a new tab or window: the browser's own behaviour
            }
            event.preventDefault();
            window.history.pushState({}, "", href);
            window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
            window.scrollTo(0, 0);
        },
    }, text);
};
