package locale

// publicMessages are the texts of the public pages: key, Vietnamese, English.
var publicMessages = [][3]string{}
