/**
 * Spring Boot auto-configuration for pypool: pools made from the {@code pypool.*} properties
 * ({@link io.pypool.spring.boot.PypoolProperties}) as beans ({@link io.pypool.spring.boot.PythonPools}
 * and a {@code PythonPool} each), configured further by {@link io.pypool.spring.boot.PythonPoolCustomizer}
 * beans, reported by Actuator ({@link io.pypool.spring.boot.PypoolHealthIndicator}) and Micrometer,
 * and closed after the web server as the application stops.
 */
package io.pypool.spring.boot;
