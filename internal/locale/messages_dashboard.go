package locale

// dashboardMessages are the texts of the dashboard pages: key, Vietnamese, English.
var dashboardMessages = [][3]string{}
