/* Styles of the drawn basemap's areas (water, buildings) under the roads, on
 * the dark map background (#0d1117). Referenced from Python as
 * {"variable": "dm.basemap.<name>"}; their own namespace because map.js
 * replaces window.dm.map whole and Dash loads it after this file. */
(function () {
  "use strict";
  window.dm = window.dm || {};
  window.dm.basemap = {
    waterStyle: function () {
      return { stroke: false, fillColor: "#123a5c", fillOpacity: 1 };
    },
    buildingStyle: function () {
      return { color: "#2a3340", weight: 0.5, opacity: 1, fillColor: "#1b222d", fillOpacity: 1 };
    },
  };
})();
