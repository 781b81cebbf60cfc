package locale

// adminMessages are the texts of the admin pages: key, Vietnamese, English.
var adminMessages = [][3]string{}
