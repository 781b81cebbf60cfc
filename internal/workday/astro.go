package workday

import "math"

// The astronomy the lunar calendar needs: the instants of new moons and the
// apparent longitude of the sun, both from the truncated series of Jean Meeus,
// Astronomical Algorithms (2nd ed., chapters 25 and 49), and the difference
// between the uniform time of those series and civil time.
//
// Instants are Julian dates (days and fractions since noon UT of 1 January
// 4713 BC, Julian calendar). Civil dates are day numbers: days since
// 1970-01-01 in the UTC+7 zone.

const (
	degree       = math.Pi / 180
	unixEpochJD  = 2440587.5                            // the Julian date of 1970-01-01 00:00 UT
	zoneOffset   = zoneSeconds / float64(secondsPerDay) // UTC+7, in days
	synodicMonth = 29.530588861                         // mean length of a lunation, in days
	newMoon0     = 2451550.09766                        // mean new moon of 2000-01-06, lunation 0
	tropicalYear = 365.242189                           // in days
	j2000        = 2451545.0                            // 2000-01-01 12:00 TT
	julianCent   = 36525.0                              // days in a Julian century
	newMoonCent  = 1236.85                              // lunations in a Julian century
	decSolstice  = 270.0                                // the sun's longitude at the December solstice
	termWidth    = 30.0                                 // degrees between principal solar terms
)

// deltaT returns TT − UT, in days, for a moment of the given decimal year:
// the polynomial fits of Espenak and Meeus (2006). The series give instants
// in uniform time (TT) while the calendar is kept in civil time (UT+7); the
// difference is about a minute today and grows to a few minutes by 2200,
// enough to move a new moon near midnight to the other day.
func deltaT(year float64) float64 {
	var s float64
	switch {
	case year < 1800 || year >= 2150:
		u := (year - 1820) / 100
		s = -20 + 32*u*u
	case year < 1860:
		t := year - 1800
		s = 13.72 + t*(-0.332447+t*(0.0068612+t*(0.0041116+t*(-0.00037436+t*(0.0000121272+t*(-0.0000001699+t*0.000000000875))))))
	case year < 1900:
		t := year - 1860
		s = 7.62 + t*(0.5737+t*(-0.251754+t*(0.01680668+t*(-0.0004473624+t/233174))))
	case year < 1920:
		t := year - 1900
		s = -2.79 + t*(1.494119+t*(-0.0598939+t*(0.0061966-t*0.000197)))
	case year < 1941:
		t := year - 1920
		s = 21.20 + t*(0.84493+t*(-0.076100+t*0.0020936))
	case year < 1961:
		t := year - 1950
		s = 29.07 + t*(0.407+t*(-1.0/233+t/2547))
	case year < 1986:
		t := year - 1975
		s = 45.45 + t*(1.067+t*(-1.0/260-t/718))
	case year < 2005:
		t := year - 2000
		s = 63.86 + t*(0.3345+t*(-0.060374+t*(0.0017275+t*(0.000651814+t*0.00002373599))))
	case year < 2050:
		t := year - 2000
		s = 62.92 + t*(0.32217+t*0.005589)
	default: // 2050–2150
		u := (year - 1820) / 100
		s = -20 + 32*u*u - 0.5628*(2150-year)
	}
	return s / secondsPerDay
}

// decimalYear returns the approximate year of a Julian date, for deltaT.
func decimalYear(jd float64) float64 { return 2000 + (jd-j2000)/tropicalYear }

// toUT converts a Julian date in TT to UT.
func toUT(jde float64) float64 { return jde - deltaT(decimalYear(jde)) }

// toTT converts a Julian date in UT to TT.
func toTT(jd float64) float64 { return jd + deltaT(decimalYear(jd)) }

// localDay returns the day number of the civil date, in UTC+7, on which the
// instant jd (UT) falls.
func localDay(jd float64) int {
	return int(math.Floor(jd - unixEpochJD + zoneOffset))
}

// dayStart returns the instant (UT) of midnight UTC+7 beginning day number d.
func dayStart(d int) float64 { return float64(d) + unixEpochJD - zoneOffset }

// newMoonTT returns the instant (TT) of the new moon of lunation k, counted
// from the new moon of 6 January 2000 (Meeus, chapter 49). Its error is a
// few seconds over the centuries the calendar is used for.
func newMoonTT(k int) float64 {
	kf := float64(k)
	t := kf / newMoonCent
	t2, t3, t4 := t*t, t*t*t, t*t*t*t
	jde := newMoon0 + synodicMonth*kf + 0.00015437*t2 - 0.000000150*t3 + 0.00000000073*t4

	e := 1 - 0.002516*t - 0.0000074*t2                                                          // eccentricity of the earth's orbit
	m := (2.5534 + 29.10535670*kf - 0.0000014*t2 - 0.00000011*t3) * degree                      // sun's mean anomaly
	mm := (201.5643 + 385.81693528*kf + 0.0107582*t2 + 0.00001238*t3 - 0.000000058*t4) * degree // moon's mean anomaly
	f := (160.7108 + 390.67050284*kf - 0.0016118*t2 - 0.00000227*t3 + 0.000000011*t4) * degree  // moon's argument of latitude
	om := (124.7746 - 1.56375588*kf + 0.0020672*t2 + 0.00000215*t3) * degree                    // longitude of the ascending node

	sin := math.Sin
	jde += -0.40720*sin(mm) +
		0.17241*e*sin(m) +
		0.01608*sin(2*mm) +
		0.01039*sin(2*f) +
		0.00739*e*sin(mm-m) -
		0.00514*e*sin(mm+m) +
		0.00208*e*e*sin(2*m) -
		0.00111*sin(mm-2*f) -
		0.00057*sin(mm+2*f) +
		0.00056*e*sin(2*mm+m) -
		0.00042*sin(3*mm) +
		0.00042*e*sin(m+2*f) +
		0.00038*e*sin(m-2*f) -
		0.00024*e*sin(2*mm-m) -
		0.00017*sin(om) -
		0.00007*sin(mm+2*m) +
		0.00004*sin(2*mm-2*f) +
		0.00004*sin(3*m) +
		0.00003*sin(mm+m-2*f) +
		0.00003*sin(2*mm+2*f) -
		0.00003*sin(mm+m+2*f) +
		0.00003*sin(mm-m+2*f) -
		0.00002*sin(mm-m-2*f) -
		0.00002*sin(3*mm+m) +
		0.00002*sin(4*mm)

	// The planetary arguments.
	for _, p := range planetary {
		jde += p.amp * sin((p.a0+p.a1*kf+p.a2*t2)*degree)
	}
	return jde
}

// planetary lists the additional corrections to a new moon for the planets'
// perturbations: amplitude (days) and argument a0 + a1·k + a2·T² (degrees).
var planetary = [...]struct{ amp, a0, a1, a2 float64 }{
	{0.000325, 299.77, 0.107408, -0.009173},
	{0.000165, 251.88, 0.016321, 0},
	{0.000164, 251.83, 26.651886, 0},
	{0.000126, 349.42, 36.412478, 0},
	{0.000110, 84.66, 18.206239, 0},
	{0.000062, 141.74, 53.303771, 0},
	{0.000060, 207.14, 2.453732, 0},
	{0.000056, 154.84, 7.306860, 0},
	{0.000047, 34.52, 27.261239, 0},
	{0.000042, 207.19, 0.121824, 0},
	{0.000040, 291.34, 1.844379, 0},
	{0.000037, 161.72, 24.198154, 0},
	{0.000035, 239.56, 25.513099, 0},
	{0.000023, 331.55, 3.592518, 0},
}

// newMoonDay returns the day number of the civil date (UTC+7) of the new
// moon of lunation k: the first day of a lunar month.
func newMoonDay(k int) int { return localDay(toUT(newMoonTT(k))) }

// lunationBefore returns the lunation whose new moon falls on day d or is
// the last before it.
func lunationBefore(d int) int {
	k := int(math.Floor((dayStart(d) - newMoon0) / synodicMonth))
	for newMoonDay(k) > d {
		k--
	}
	for newMoonDay(k+1) <= d {
		k++
	}
	return k
}

// sunLongitude returns the apparent geocentric longitude of the sun, in
// degrees in [0, 360), referred to the true equinox of the date, at the
// instant jde (TT). This is Meeus's low-accuracy method (chapter 25); its
// error of about 0.01° moves a solar term by about a quarter of an hour.
func sunLongitude(jde float64) float64 {
	t := (jde - j2000) / julianCent
	l0 := 280.46646 + t*(36000.76983+t*0.0003032)           // mean longitude
	m := (357.52911 + t*(35999.05029-t*0.0001537)) * degree // mean anomaly
	c := (1.914602-t*(0.004817+t*0.000014))*math.Sin(m) +
		(0.019993-t*0.000101)*math.Sin(2*m) +
		0.000289*math.Sin(3*m) // equation of the centre
	om := (125.04 - 1934.136*t) * degree
	lambda := l0 + c - 0.00569 - 0.00478*math.Sin(om) // nutation and aberration
	lambda = math.Mod(lambda, 360)
	if lambda < 0 {
		lambda += 360
	}
	return lambda
}

// termIndex returns which of the twelve 30° arcs of the ecliptic, each
// starting at a principal solar term (trung khí), the sun is in at the start
// of day d. A lunar month contains a principal term exactly when the index
// at the start of its first day differs from that at the start of the next
// month's first day.
func termIndex(d int) int {
	return int(sunLongitude(toTT(dayStart(d))) / termWidth)
}

// decemberSolsticeDay returns the day number of the civil date (UTC+7) of
// the December solstice of the given year.
func decemberSolsticeDay(year int) int {
	jde := dayStart(civilDay(year, 12, 21))
	for range 20 {
		diff := math.Remainder(decSolstice-sunLongitude(jde), 360)
		step := diff / 360 * tropicalYear
		jde += step
		if math.Abs(step) < 1e-7 {
			break
		}
	}
	return localDay(toUT(jde))
}
